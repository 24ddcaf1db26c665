/**
 * MQTT topic layout. One subtree per rig so that a broker ACL can confine a rig's
 * credentials to its own topics (see docs/protocol.md). With the default root:
 *
 *   rigwarden/v1/rigs/{rigId}/telemetry   MinerSnapshot, QoS 1          agent -> controller
 *   rigwarden/v1/rigs/{rigId}/state       RigState, QoS 1, retained     agent -> controller (birth + last will)
 *   rigwarden/v1/rigs/{rigId}/events      RigEvent, QoS 1               agent -> controller
 *   rigwarden/v1/rigs/{rigId}/commands    CommandEnvelope, QoS 1        controller -> agent
 *   rigwarden/v1/rigs/{rigId}/results     CommandResult, QoS 1          agent -> controller
 *
 *   rigwarden/v1/agents/{agentId}/status  AgentStatus, QoS 1, retained   agent -> controller
 *   rigwarden/v1/agents/{agentId}/stored  IngestReceipt, QoS 0           controller -> agent (what is stored)
 *
 * The root is configurable (RIGWARDEN_TOPIC_ROOT) so that several farms, or
 * several test runs, can share one broker without seeing each other.
 */
export const DEFAULT_TOPIC_ROOT = 'rigwarden/v1';

export type RigTopicKind = 'telemetry' | 'state' | 'events' | 'commands' | 'results';

const KINDS: ReadonlySet<string> = new Set<RigTopicKind>(['telemetry', 'state', 'events', 'commands', 'results']);

/** Rig ids become topic levels: no wildcards, no separators, no control characters. */
const RIG_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ROOT_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function isValidRigId(rigId: string): boolean {
  return RIG_ID_PATTERN.test(rigId);
}

export interface ParsedRigTopic {
  rigId: string;
  kind: RigTopicKind;
}

export class RigTopics {
  private readonly prefix: string;
  private readonly agentPrefix: string;

  constructor(readonly root: string = DEFAULT_TOPIC_ROOT) {
    if (!ROOT_PATTERN.test(root)) {
      throw new RangeError(`topic root "${root}" is invalid: use levels of A-Z a-z 0-9 . _ - separated by "/", no wildcards, no leading or trailing "/"`);
    }
    this.prefix = `${root}/rigs/`;
    this.agentPrefix = `${root}/agents/`;
  }

  /** The agent's own status topic; agent ids follow the rig id rules. */
  agentStatus(agentId: string): string {
    if (!isValidRigId(agentId)) {
      throw new RangeError(`agent id "${agentId}" cannot be used in an MQTT topic: use 1-128 characters from A-Z a-z 0-9 . _ : - (first one alphanumeric)`);
    }
    return `${this.root}/agents/${agentId}/status`;
  }

  /**
   * Where the controller tells an agent which of its messages are stored (durably, in the controller's database):
   * the agent keeps each queued message until a receipt names it, whatever the broker acknowledged.
   */
  agentStored(agentId: string): string {
    return this.agentStatus(agentId).slice(0, -'/status'.length) + '/stored';
  }

  allAgentStatus(): string {
    return `${this.root}/agents/+/status`;
  }

  /** The agent id of an agent status topic; undefined for any other topic. */
  parseAgentStatus(topic: string): string | undefined {
    if (!topic.startsWith(this.agentPrefix) || !topic.endsWith('/status')) return undefined;
    const agentId = topic.slice(this.agentPrefix.length, -'/status'.length);
    return isValidRigId(agentId) ? agentId : undefined;
  }

  rig(rigId: string, kind: RigTopicKind): string {
    if (!isValidRigId(rigId)) {
      throw new RangeError(
        `rig id "${rigId}" cannot be used in an MQTT topic: use 1-128 characters from A-Z a-z 0-9 . _ : - (first one alphanumeric)`,
      );
    }
    return `${this.prefix}${rigId}/${kind}`;
  }

  /** The subscription that matches one kind of message from every rig. */
  allRigs(kind: RigTopicKind): string {
    return `${this.prefix}+/${kind}`;
  }

  /** Splits a concrete topic; undefined when it is not one of ours. */
  parse(topic: string): ParsedRigTopic | undefined {
    // Called for every message the controller receives: two searches instead of a split.
    if (!topic.startsWith(this.prefix)) return undefined;
    const slash = topic.indexOf('/', this.prefix.length);
    if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return undefined;
    const rigId = topic.slice(this.prefix.length, slash);
    const kind = topic.slice(slash + 1);
    if (!isValidRigId(rigId) || !KINDS.has(kind)) return undefined;
    return { rigId, kind: kind as RigTopicKind };
  }
}
