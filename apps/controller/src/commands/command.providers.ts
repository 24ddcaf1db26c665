import type { Provider } from '@nestjs/common';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { CommandDispatcher } from './command-dispatcher.service';
import { CommandRepository } from './command-repository';

/** The commands feature's providers, registered once in app.module.ts. */
export const COMMAND_PROVIDERS: Provider[] = [
  { provide: CommandRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new CommandRepository(db) },
  CommandDispatcher,
];
