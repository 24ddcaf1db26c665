import { CgminerParseError } from './cgminer-json.decoder';

/**
 * cgminer's plain-text API form, answered to requests written as `cmd|param`:
 *
 *   STATUS=S,When=1,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=5,MHS av=1.5|
 *   STATUS=S,...|POOL=0,URL=stratum+tcp://a:3333,Status=Alive|POOL=1,...|
 *
 * Sections end with "|", fields are "key=value" separated by ",". The first
 * field of a data section names it: a bare word (SUMMARY, VERSION) or "POOL=n",
 * "ASC=n", "STATS=n". Values can hold raw newlines (Avalon's ascset Msg).
 * The result has the same shape as a JSON reply, values as strings.
 */
export function parseCgminerText(input: string): Record<string, unknown> {
  const nul = input.indexOf('\u0000');
  const text = (nul >= 0 ? input.slice(0, nul) : input).replace(/^\s+/, '');
  if (!text.startsWith('STATUS=')) {
    throw new CgminerParseError('plain-text reply does not start with "STATUS="', text.slice(0, 200));
  }
  const sections = text.split('|').filter((s) => s.trim() !== '');
  const reply: Record<string, unknown> = {};
  for (const sectionText of sections) {
    const fields = splitFields(sectionText);
    const first = fields[0];
    if (!first) continue;
    let name: string;
    const record: Record<string, unknown> = {};
    if (first.key === 'STATUS') {
      name = 'STATUS';
      for (const f of fields) record[f.key] = f.key === 'Code' || f.key === 'When' ? toNumber(f.value) : f.value;
    } else if (first.value === undefined) {
      name = first.key;
      for (const f of fields.slice(1)) record[f.key] = f.value ?? '';
    } else {
      name = SECTION_OF[first.key] ?? `${first.key}S`;
      for (const f of fields) record[f.key] = f.value ?? '';
    }
    const list = (reply[name] as Record<string, unknown>[] | undefined) ?? [];
    list.push(record);
    reply[name] = list;
  }
  if (!reply['STATUS']) throw new CgminerParseError('plain-text reply has no STATUS section', text.slice(0, 200));
  return reply;
}

const SECTION_OF: Record<string, string> = { POOL: 'POOLS', ASC: 'DEVS', PGA: 'DEVS', GPU: 'DEVS', STATS: 'STATS', DEVDETAILS: 'DEVDETAILS' };

interface Field {
  key: string;
  value: string | undefined;
}

/**
 * Splits "a=1,b=x,y,c=3" into fields. A comma only starts a new field when what
 * follows looks like "key=": Avalon puts commas and newlines inside Msg.
 */
function splitFields(section: string): Field[] {
  const parts = section.split(',');
  const fields: Field[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const looksLikeField = eq > 0 && /^[A-Za-z0-9 _%.\-/]+$/.test(part.slice(0, eq)) && !part.slice(0, eq).includes('\n');
    if (looksLikeField || fields.length === 0) {
      fields.push(eq > 0 ? { key: part.slice(0, eq), value: part.slice(eq + 1) } : { key: part, value: undefined });
    } else {
      const last = fields[fields.length - 1]!;
      last.value = `${last.value ?? ''},${part}`;
    }
  }
  return fields;
}

function toNumber(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}
