import { isValidRigId } from '@rigwarden/protocol';
import { SecurityError } from './security-error';

/**
 * Who may do what on the MQTT broker, as data: the one rule model behind `rigctl broker-config` (rendered as a
 * Mosquitto acl_file) and the controller's embedded broker (checked in its aedes hooks). Pure: no I/O.
 *
 * A rule's topic is an MQTT topic filter (`+` and a trailing `#` as in MQTT) in which one level may also be a rig id
 * prefix pattern, `farm-b-*`: any rig id that starts with `farm-b-` (an agent that discovers its rigs by scanning
 * cannot list them ahead of time). Mosquitto cannot express such a pattern; the embedded broker can.
 */
export type BrokerAccess = 'read' | 'write';

export interface BrokerAclRule {
  /** read: subscribe and receive; write: publish (retained messages and wills included). */
  readonly access: BrokerAccess;
  readonly topic: string;
}

/** An agent principal: its username is its agent id; `rigIds` are rig ids or rig id prefix patterns (`scan-*`). */
export interface BrokerAgentPrincipal {
  agentId: string;
  rigIds: string[];
}

/** Who may connect to the broker: each agent with the rigs it speaks for, and the controller. */
export interface BrokerPrincipals {
  topicRoot: string;
  controller: string;
  agents: BrokerAgentPrincipal[];
}

const RIG_KINDS_AGENT_WRITES = ['telemetry', 'state', 'events', 'results'] as const;

/** A rig id, or a rig id prefix followed by `*` (`farm-b-*`, `scan-10-0-*`); a lone `*` is not a pattern. */
export function isRigIdPattern(pattern: string): boolean {
  if (!pattern.endsWith('*')) return isValidRigId(pattern);
  const prefix = pattern.slice(0, -1);
  return prefix.length < 128 && isValidRigId(prefix);
}

/** The controller reads everything Rigwarden's agents send and writes commands and ingest receipts. */
export function controllerBrokerRules(topicRoot: string): BrokerAclRule[] {
  return [
    { access: 'read', topic: `${topicRoot}/rigs/+/telemetry` },
    { access: 'read', topic: `${topicRoot}/rigs/+/state` },
    { access: 'read', topic: `${topicRoot}/rigs/+/events` },
    { access: 'read', topic: `${topicRoot}/rigs/+/results` },
    { access: 'read', topic: `${topicRoot}/agents/+/status` },
    { access: 'write', topic: `${topicRoot}/rigs/+/commands` },
    { access: 'write', topic: `${topicRoot}/agents/+/stored` },
  ];
}

/**
 * Least privilege per agent: it may publish only its own rigs' telemetry, state, events and results and its own
 * status, and read only its own rigs' commands and its own ingest receipts.
 */
export function agentBrokerRules(topicRoot: string, agent: BrokerAgentPrincipal): BrokerAclRule[] {
  if (!isValidRigId(agent.agentId)) throw new SecurityError('invalid_argument', `broker ACL: agent id ${JSON.stringify(agent.agentId)} is not a valid agent id`, { agentId: agent.agentId });
  const rules: BrokerAclRule[] = [
    { access: 'write', topic: `${topicRoot}/agents/${agent.agentId}/status` },
    { access: 'read', topic: `${topicRoot}/agents/${agent.agentId}/stored` },
  ];
  for (const rig of agent.rigIds) {
    if (!isRigIdPattern(rig)) {
      throw new SecurityError('invalid_argument', `broker ACL: agent ${agent.agentId}: ${JSON.stringify(rig)} is neither a rig id nor a rig id prefix pattern like "scan-*"`, { agentId: agent.agentId });
    }
    for (const kind of RIG_KINDS_AGENT_WRITES) rules.push({ access: 'write', topic: `${topicRoot}/rigs/${rig}/${kind}` });
    rules.push({ access: 'read', topic: `${topicRoot}/rigs/${rig}/commands` });
  }
  return rules;
}

function levelCovers(rule: string, level: string): boolean {
  if (rule === '+') return level !== '#';
  if (rule.endsWith('*') && rule.length > 1) return level !== '+' && level !== '#' && level.startsWith(rule.slice(0, -1)) && isValidRigId(level);
  return rule === level;
}

/** Whether every topic `filter` can match is matched by `ruleTopic` (a concrete topic is a filter without wildcards). */
export function topicFilterCovers(ruleTopic: string, filter: string): boolean {
  if (filter.startsWith('$') !== ruleTopic.startsWith('$')) return false;
  const rule = ruleTopic.split('/');
  const levels = filter.split('/');
  for (let i = 0; i < rule.length; i++) {
    const r = rule[i]!;
    if (r === '#' && i === rule.length - 1) return true;
    const level = levels[i];
    if (level === undefined || !levelCovers(r, level)) return false;
  }
  return levels.length === rule.length;
}

const isPattern = (topic: string): boolean => topic.includes('+') || topic.includes('#') || topic.includes('*');

/**
 * One principal's rules, checked the way the broker needs them: once per message, so rules without wildcards (an
 * agent's 5 per rig, thousands for a large farm LAN) are a set lookup and only patterns are matched level by level.
 */
export class BrokerAcl {
  private readonly exact: Record<BrokerAccess, ReadonlySet<string>>;
  private readonly patterns: Record<BrokerAccess, readonly string[]>;

  constructor(readonly rules: readonly BrokerAclRule[]) {
    const of = (access: BrokerAccess, pattern: boolean): string[] => rules.filter((r) => r.access === access && isPattern(r.topic) === pattern).map((r) => r.topic);
    this.exact = { read: new Set(of('read', false)), write: new Set(of('write', false)) };
    this.patterns = { read: of('read', true), write: of('write', true) };
  }

  /** May this principal publish (or leave as a will, or retain) on this concrete topic? */
  mayPublish(topic: string): boolean {
    if (topic.includes('+') || topic.includes('#')) return false;
    return this.allows('write', topic);
  }

  /** May it subscribe to this filter: is everything the filter matches readable? (`#` is not, for an agent.) */
  maySubscribe(filter: string): boolean {
    return this.allows('read', filter);
  }

  private allows(access: BrokerAccess, filter: string): boolean {
    // A filter with wildcards is never covered by a rule without: the set holds only the exact answers.
    return this.exact[access].has(filter) || this.patterns[access].some((rule) => topicFilterCovers(rule, filter));
  }
}
