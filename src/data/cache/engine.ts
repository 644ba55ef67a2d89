/** The Redis-compatible engine and version of a DjangoCache. */
export class CacheEngine {
  /**
   * Valkey 8.0: the open-source fork of Redis OSS 7.2, wire-compatible with redis-py, django-redis and
   * channels_redis, and priced about 20% below Redis OSS on ElastiCache.
   */
  public static readonly VALKEY_8_0 = new CacheEngine('valkey', '8.0');
  /** Redis OSS 7.1, the last Redis OSS version on ElastiCache. */
  public static readonly REDIS_7_1 = new CacheEngine('redis', '7.1');

  /**
   * Any other engine version ElastiCache supports (see `aws elasticache describe-cache-engine-versions`).
   * @param engine 'valkey' or 'redis'
   * @param version e.g. '7.2'
   */
  public static of(engine: string, version: string): CacheEngine {
    return new CacheEngine(engine, version);
  }

  /** The ElastiCache engine name. */
  public readonly engine: string;
  /** The engine version. */
  public readonly version: string;

  private constructor(engine: string, version: string) {
    this.engine = engine;
    this.version = version;
  }
}
