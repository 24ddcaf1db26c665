import type { AlertChannel } from './alerts-config';
import type { AlertNotification } from './alert-types';

/** What is POSTed for one notification: JSON body, to the channel's URL. */
export interface OutgoingMessage {
  readonly body: Record<string, unknown>;
  /** Earlier notifications of this channel dropped by the rate limit, mentioned in this one. */
  readonly suppressed: number;
}

const ICON = { firing: { info: 'ℹ️', warning: '⚠️', critical: '🔥' }, reminder: { info: 'ℹ️', warning: '⏰', critical: '⏰' }, resolved: { info: '✅', warning: '✅', critical: '✅' } } as const;

export function title(n: AlertNotification): string {
  const state = n.type === 'resolved' ? 'RESOLVED' : n.type === 'reminder' ? `STILL ${n.severity.toUpperCase()}` : n.severity.toUpperCase();
  return `[${state}] ${n.rule} on ${n.rigId}`;
}

function details(n: AlertNotification, suppressed: number): string[] {
  const lines = [`reason: ${n.reason} · since ${new Date(n.since).toISOString()}`];
  if (n.occurrences > 1) lines.push(`${n.occurrences} occurrences since the last notification`);
  if (suppressed > 0) lines.push(`${suppressed} earlier notification(s) were held back by the rate limit`);
  return lines;
}

/** Generic JSON: every field, machine-readable. */
export function genericBody(n: AlertNotification, suppressed: number): Record<string, unknown> {
  return {
    version: 1,
    status: n.type,
    rule: n.rule,
    rig: n.rigId,
    severity: n.severity,
    reason: n.reason,
    summary: n.summary,
    since: new Date(n.since).toISOString(),
    at: new Date(n.at).toISOString(),
    occurrences: n.occurrences,
    suppressed,
  };
}

/** Slack incoming webhook: `text` (also the notification fallback) and Block Kit blocks. */
export function slackBody(n: AlertNotification, suppressed: number): Record<string, unknown> {
  const head = `${ICON[n.type][n.severity]} ${title(n)}`;
  return {
    text: `${head}: ${n.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(head)}*\n${slackEscape(n.summary)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(details(n, suppressed).join('\n')) }] },
    ],
  };
}

/** Telegram Bot API sendMessage, HTML parse mode. */
export function telegramBody(n: AlertNotification, suppressed: number, chatId: string): Record<string, unknown> {
  const text = [`${ICON[n.type][n.severity]} <b>${htmlEscape(title(n))}</b>`, htmlEscape(n.summary), ...details(n, suppressed).map((l) => `<i>${htmlEscape(l)}</i>`)].join('\n');
  return { chat_id: chatId, text, parse_mode: 'HTML', disable_web_page_preview: true };
}

export function messageFor(channel: AlertChannel, n: AlertNotification, suppressed: number): OutgoingMessage {
  switch (channel.type) {
    case 'slack': return { body: slackBody(n, suppressed), suppressed };
    case 'telegram': return { body: telegramBody(n, suppressed, channel.chatId ?? ''), suppressed };
    default: return { body: genericBody(n, suppressed), suppressed };
  }
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
