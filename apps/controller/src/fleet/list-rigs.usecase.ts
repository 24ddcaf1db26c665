import { Inject, Injectable } from '@nestjs/common';
import type { ListRigsRequest, ListRigsResponse, RigSelector } from '@rigwarden/protocol';
import { type RigRecord } from '../persistence/rig-repository';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { FleetError } from './fleet-error';
import { FleetSpecService } from './fleet-spec.service';
import { matchesSelector, validateSelector } from './rig-selector';
import { RigView } from './rig-view';

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 10_000;
/** Rigs read per step while filtering by a selector. */
const SCAN_CHUNK = 1000;
/** Rigs read per step of the cheap pass (no miners), for selectors that do not look at the model. */
const SUMMARY_CHUNK = 5000;

export function isEmptySelector(s: RigSelector): boolean {
  return s.rigIds.length === 0 && s.group === '' && Object.keys(s.labels ?? {}).length === 0 && s.status === '' && s.model === '';
}

/**
 * Lists rigs ordered by id, filtered by a selector, a page at a time. The page token is the last rig id of the
 * previous page, so a page stays correct while rigs come and go.
 */
@Injectable()
export class ListRigsUseCase {
  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(RigView) private readonly view: RigView,
    @Inject(TELEMETRY_QUERY_STORE) private readonly queries: TelemetryQueryStore,
  ) {}

  async execute(request: ListRigsRequest): Promise<ListRigsResponse> {
    const pageSize = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
    if (pageSize > MAX_PAGE_SIZE) {
      throw new FleetError('invalid_argument', `page_size must be at most ${MAX_PAGE_SIZE}, got ${request.pageSize}`, 'page_size');
    }
    let after = '';
    if (request.pageToken !== '') {
      after = Buffer.from(request.pageToken, 'base64url').toString('utf8');
      if (after === '' || Buffer.from(after, 'utf8').toString('base64url') !== request.pageToken) {
        throw new FleetError('invalid_argument', 'page_token is not a token this server issued; pass next_page_token of the previous page', 'page_token');
      }
    }
    validateSelector(request.selector);
    const selector = request.selector && !isEmptySelector(request.selector) ? request.selector : undefined;
    const matched = selector && selector.model === '' ? await this.selectByRow(selector, after, pageSize + 1) : await this.selectByRecord(selector, after, pageSize + 1);
    const page = matched.slice(0, pageSize);
    const more = matched.length > pageSize;
    return {
      rigs: await this.view.toRigs(page),
      nextPageToken: more ? Buffer.from(page[page.length - 1]!.rigId, 'utf8').toString('base64url') : '',
    };
  }

  /** Id, labels, status and group are on the rigs row: filter there, then load only the matches with their miners. */
  private async selectByRow(selector: RigSelector, after: string, wanted: number): Promise<RigRecord[]> {
    const ids: string[] = [];
    for (let cursor = after; ids.length < wanted;) {
      const chunk = await this.queries.rigSummaries(cursor, SUMMARY_CHUNK);
      for (const rig of chunk) {
        if (ids.length >= wanted) break;
        if (matchesSelector(rig, this.fleet.groupOf({ ...rig, miners: [] }), selector)) ids.push(rig.rigId);
      }
      if (chunk.length < SUMMARY_CHUNK) break;
      cursor = chunk[chunk.length - 1]!.rigId;
    }
    return (await Promise.all(ids.map((id) => this.rigs.getRig(id)))).filter((r): r is RigRecord => r !== undefined);
  }

  /** Without a selector (one read) or with a model filter (the model is on the miners). */
  private async selectByRecord(selector: RigSelector | undefined, after: string, wanted: number): Promise<RigRecord[]> {
    const pageSize = wanted - 1;
    const matched: RigRecord[] = [];
    // Read in chunks until the page (plus one, to know whether there is more) is full or the rigs run out.
    for (;;) {
      const chunk = await this.rigs.listRigs(selector ? Math.max(SCAN_CHUNK, pageSize + 1) : pageSize + 1, after);
      for (const record of chunk) {
        if (matched.length > pageSize) break;
        if (matchesSelector(record, this.fleet.groupOf(record), selector)) matched.push(record);
      }
      if (matched.length > pageSize || chunk.length === 0 || !selector) break;
      after = chunk[chunk.length - 1]!.rigId;
    }
    return matched;
  }
}
