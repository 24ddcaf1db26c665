import type { Provider } from '@nestjs/common';
import { DashboardHttpServer } from './dashboard-http.server';
import { FleetViewService } from './fleet-view.service';

/** The dashboard's providers, registered once in app.module.ts. */
export const DASHBOARD_PROVIDERS: Provider[] = [FleetViewService, DashboardHttpServer];
