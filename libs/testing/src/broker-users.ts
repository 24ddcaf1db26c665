import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoPasswordHash, renderBrokerUsersFile } from '@rigwarden/security';

export interface TestBrokerUsers {
  /** The users file, for the controller's --broker-users. */
  file: string;
  /** Each agent's clear password, for RIGWARDEN_MQTT_PASSWORD or an MQTT client's `password`. */
  passwords: Map<string, string>;
  /** MQTT.js options that log in as this agent. */
  login(agentId: string): { username: string; password: string };
  /** The environment that gives a spawned agent this login (RIGWARDEN_MQTT_USERNAME / RIGWARDEN_MQTT_PASSWORD). */
  env(agentId: string): Record<string, string>;
}

/**
 * A users file for a controller's embedded broker (as `rigctl broker-config --format rigwarden` writes it) in `dir`,
 * with a fresh password per agent. `agents` maps each agent id to its rig ids or rig id prefixes (`sim-*`).
 */
export function writeTestBrokerUsers(dir: string, agents: Record<string, string[]>, fileName = 'broker-users.yaml'): TestBrokerUsers {
  const passwords = new Map<string, string>();
  const users = Object.entries(agents).map(([agentId, rigIds]) => {
    const password = randomBytes(18).toString('base64url');
    passwords.set(agentId, password);
    return { agentId, rigIds, passwordHash: mosquittoPasswordHash(password) };
  });
  const file = join(dir, fileName);
  writeFileSync(file, renderBrokerUsersFile(users), { mode: 0o600 });
  const login = (agentId: string): { username: string; password: string } => {
    const password = passwords.get(agentId);
    if (password === undefined) throw new Error(`writeTestBrokerUsers: no agent ${agentId} in ${file}`);
    return { username: agentId, password };
  };
  return {
    file,
    passwords,
    login,
    env: (agentId) => {
      const { username, password } = login(agentId);
      return { RIGWARDEN_MQTT_USERNAME: username, RIGWARDEN_MQTT_PASSWORD: password };
    },
  };
}
