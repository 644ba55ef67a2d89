import { Duration } from 'aws-cdk-lib';

/** How static files reach browsers. */
export enum StaticFilesMode {
  /** The app serves them itself (WhiteNoise) or has none; requests go through to Django. */
  APP_SERVED = 'app-served',
  /** An init container copies them from the app image into a task volume the proxy serves. */
  FROM_IMAGE = 'from-image',
  /** Served from another origin (a CDN such as DjangoStaticFiles' CloudFront distribution). */
  EXTERNAL = 'external',
}

/** Options for serving static files collected into the app image. */
export interface StaticFilesFromImageOptions {
  /**
   * URL prefix, the same as Django's `STATIC_URL` (set in the container as `DJANGO_STATIC_URL`).
   * @default '/static/'
   */
  readonly urlPath?: string;
  /**
   * How long browsers may cache a file. Use a long value only with hashed file names
   * (ManifestStaticFilesStorage).
   * @default Duration.hours(1)
   */
  readonly maxAge?: Duration;
}

/**
 * Where static files come from: `StaticFiles.fromImage(dir)` (served by the proxy, fastest) or
 * `StaticFiles.appServed()` (WhiteNoise or no static files).
 */
export class StaticFiles {
  /**
   * Files already collected into the app image (`collectstatic` in the Dockerfile, `STATIC_ROOT`);
   * an init container from the app image copies `directory` to a volume the proxy serves.
   * @param directory absolute path of STATIC_ROOT inside the app image, e.g. `/app/staticfiles`
   */
  public static fromImage(directory: string, options: StaticFilesFromImageOptions = {}): StaticFiles {
    return new StaticFiles(StaticFilesMode.FROM_IMAGE, directory, options.urlPath ?? '/static/', options.maxAge ?? Duration.hours(1));
  }

  /**
   * Files served from another origin, such as the CloudFront distribution of `DjangoStaticFiles`
   * (collectstatic uploads them, e.g. in the migrations task). Sets `DJANGO_STATIC_URL` to `url`.
   * @param url the full STATIC_URL, ending in '/', e.g. `https://d111111abcdef8.cloudfront.net/static/`
   */
  public static fromUrl(url: string): StaticFiles {
    return new StaticFiles(StaticFilesMode.EXTERNAL, undefined, url, undefined);
  }

  /** The app serves its static files itself (WhiteNoise), or has none. */
  public static appServed(): StaticFiles {
    return new StaticFiles(StaticFilesMode.APP_SERVED, undefined, undefined, undefined);
  }

  private constructor(
    /** The mode. */
    public readonly mode: StaticFilesMode,
    /** STATIC_ROOT inside the app image (FROM_IMAGE only). */
    public readonly directory: string | undefined,
    /** URL prefix (FROM_IMAGE), or the full URL (EXTERNAL). */
    public readonly urlPath: string | undefined,
    /** Browser cache duration (FROM_IMAGE only). */
    public readonly maxAge: Duration | undefined,
  ) {}
}
