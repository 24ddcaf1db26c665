import { Inject, Injectable } from '@nestjs/common';
import type { ListRigsRequest, ListRigsResponse, Rig } from '@rigwarden/protocol';
import { RigRepository, type RigRecord } from '../persistence/rig-repository';
import { FleetError } from './fleet-error';

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 10_000;

export function toRig(record: RigRecord): Rig {
  return { rigId: record.rigId, online: record.online, lastSeen: record.lastSeen, lastSeq: record.lastSeq, miners: record.miners, labels: {}, group: '', quarantined: false };
}

/** Lists rigs ordered by id, a page at a time. The page token is the last rig id of the previous page. */
@Injectable()
export class ListRigsUseCase {
  constructor(@Inject(RigRepository) private readonly rigs: RigRepository) {}

  async execute(request: ListRigsRequest): Promise<ListRigsResponse> {
    const pageSize = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
    if (pageSize > MAX_PAGE_SIZE) {
      throw new FleetError('invalid_argument', `page_size must be at most ${MAX_PAGE_SIZE}, got ${request.pageSize}`, 'page_size');
    }
    let after = '';
    if (request.pageToken !== '') {
      try {
        after = Buffer.from(request.pageToken, 'base64url').toString('utf8');
      } catch {
        throw new FleetError('invalid_argument', 'page_token is not a token this server issued', 'page_token');
      }
    }
    const records = await this.rigs.listRigs(pageSize + 1, after);
    const page = records.slice(0, pageSize);
    const more = records.length > pageSize;
    return {
      rigs: page.map(toRig),
      nextPageToken: more ? Buffer.from(page[page.length - 1]!.rigId, 'utf8').toString('base64url') : '',
    };
  }
}
