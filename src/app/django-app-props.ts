import { Duration } from 'aws-cdk-lib';
import { ChannelLayerOptions } from '../channel-layer';
import { DjangoAppWorkerOptions } from './app-workers';
import { DjangoAppCompositionProps } from './composition';
import { DjangoRequirements, DjangoServerChoice } from './selection';
import { DjangoCacheOptions, IDjangoCache } from '../data/cache';
import { DjangoDatabaseOptions, IDjangoDatabase } from '../data/database';
import { DjangoStaticFilesProps } from '../data/static-site';
import { DjangoAlarmsOptions } from '../observability/alarms';
import { DjangoSiteProps } from '../services/service-props';
import { DjangoTaskQueueProps } from '../workers/task-queue';

/** Props of DjangoApp: the site (image, host names, settings, service size) and what the project needs. */
export interface DjangoAppProps extends DjangoSiteProps, DjangoAppCompositionProps {
  /**
   * What the project needs; DjangoApp picks the app server(s) from it (see `decision`).
   * @default - no special needs: Gunicorn (gthread) behind Nginx
   */
  readonly requirements?: DjangoRequirements;
  /**
   * Overrides the pick. Checked against `requirements`: a layout that cannot meet them is an error.
   * @default - picked from requirements
   */
  readonly server?: DjangoServerChoice;
  /**
   * The WSGI application, `module:callable`, for Gunicorn or uWSGI (`'mysite.wsgi:application'` for a
   * `django-admin startproject mysite` layout). Checked against the project when the image is built from it.
   * @default - the project's `<package>/wsgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.wsgi:application'
   */
  readonly wsgiModule?: string;
  /**
   * The ASGI application, `module:callable`, for Gunicorn's uvicorn worker or Daphne (`'mysite.asgi:application'`
   * for a `startproject mysite` layout). Checked against the project when the image is built from it.
   * @default - the project's `<package>/asgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.asgi:application'
   */
  readonly asgiModule?: string;
  /**
   * Priority of the listener rule that sends the WebSocket paths to the WebSocket service in a mixed app. High, so
   * rules users add to the listener with ordinary priorities (1-39999) never clash and win.
   * @default 40000
   */
  readonly websocketRulePriority?: number;
  /**
   * The Redis endpoint of the Channels layer, when the app serves WebSockets.
   * @default - the cache (created by default when the app serves WebSockets and this is not given); without either, the WebSocket service runs one task, with a warning
   */
  readonly channelLayer?: ChannelLayerOptions;
  /**
   * A new PostgreSQL database (DjangoDatabase: Aurora Serverless v2 by default): `DATABASE_*` settings
   * and credentials in every app container, the services admitted on its port, migrations on; AWS
   * Backup copies daily, kept 35 days, unless `backupPlan` names another plan.
   * Exclusive with `database`.
   * @default - no database
   */
  readonly databaseOptions?: DjangoDatabaseOptions;
  /**
   * An existing database instead of a new one (`DjangoDatabase.fromExisting`, or a DjangoDatabase of
   * another stack). Exclusive with `databaseOptions`.
   * @default - see `databaseOptions`
   */
  readonly database?: IDjangoDatabase;
  /**
   * A Redis-compatible ElastiCache (DjangoCache) for the Django cache and the Channels layer:
   * `REDIS_URL` and `REDIS_PASSWORD` in every app container, the services admitted on its port.
   * Exclusive with `cache`.
   * @default - created when the app serves WebSockets (a shared Channels layer lets their service run more than one task), else none
   */
  readonly cacheOptions?: DjangoAppCacheOptions;
  /**
   * An existing cache instead of a new one (`DjangoCache.fromExisting`, or a DjangoCache of another
   * stack). Exclusive with `cacheOptions`.
   * @default - see `cacheOptions`
   */
  readonly cache?: IDjangoCache;
  /**
   * Static files (and optionally media uploads) on S3 behind CloudFront (DjangoStaticFiles):
   * `DJANGO_STATIC_URL` points at the distribution, and `collectstatic` runs with the migrations.
   * @default - off: static files as `staticFiles` says
   */
  readonly staticSite?: DjangoAppStaticSiteOptions;
  /**
   * Migrations as a deploy step: the services roll out only after `manage.py migrate` exits 0.
   * @default - on when there is a database
   */
  readonly migrations?: DjangoAppMigrationsOptions;
  /**
   * Alarms and a dashboard.
   * @default - on, with the DjangoAlarms defaults and a new encrypted topic (`alarms.topic`) to subscribe to
   */
  readonly alarms?: DjangoAppAlarmsOptions;
  /**
   * Long-running commands beside the web service (Celery worker and beat, or any command), each an ECS
   * service with no load balancer that shares the app's image, settings, secrets, database and cache, and
   * starts only after the migrations. Celery's broker is the cache (created for it) unless `taskQueue` is given.
   * @default - no workers
   */
  readonly workers?: DjangoAppWorkerOptions[];
  /**
   * SQS queues as the Celery broker instead of the cache (DjangoTaskQueue): `CELERY_SQS_*` settings in every
   * app container, the web containers may enqueue, the workers consume and scale on queue depth.
   * @default - the cache is the broker of Celery workers
   */
  readonly taskQueue?: DjangoTaskQueueProps;
}

/** Migrations as a deploy step (DjangoMigrations). */
export interface DjangoAppMigrationsOptions {
  /**
   * Run the command once per new task definition revision, after the database is ready and before the services roll out; a non-zero exit fails the deployment.
   * @default - on when DjangoApp has a database (`databaseOptions` or `database`), off otherwise
   */
  readonly enabled?: boolean;
  /**
   * The command, run in the HTTP service's app container (its settings, secrets and network).
   * @default ['python', 'manage.py', 'migrate', '--noinput']
   */
  readonly command?: string[];
  /**
   * How long the run may take before the deployment fails.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
}

/** A new cache of a DjangoApp (DjangoCache). */
export interface DjangoAppCacheOptions extends DjangoCacheOptions {
  /**
   * Create the cache.
   * @default - true when the app serves WebSockets without a `channelLayer` (the cache becomes the layer) or runs Celery workers without a taskQueue (the broker), else false
   */
  readonly enabled?: boolean;
}

/** Static files on S3 and CloudFront for a DjangoApp (DjangoStaticFiles). */
export interface DjangoAppStaticSiteOptions extends DjangoStaticFilesProps {
  /**
   * Create the bucket(s) and distribution.
   * @default true
   */
  readonly enabled?: boolean;
}

/** CloudWatch alarms and dashboard of a DjangoApp (DjangoAlarms). */
export interface DjangoAppAlarmsOptions extends DjangoAlarmsOptions {
  /**
   * Create the alarms (5xx rate, p99 latency, unhealthy hosts, CPU, memory per service, and the
   * migrations run) and the dashboard.
   * @default true
   */
  readonly enabled?: boolean;
}
