/**
 * The production settings contract: the environment variable names the library sets in the app
 * container. The README documents them in one table and shows the settings.py lines that read them.
 */
export const SettingsEnv = {
  SETTINGS_MODULE: 'DJANGO_SETTINGS_MODULE',
  DEBUG: 'DJANGO_DEBUG',
  ALLOWED_HOSTS: 'DJANGO_ALLOWED_HOSTS',
  CSRF_TRUSTED_ORIGINS: 'DJANGO_CSRF_TRUSTED_ORIGINS',
  SECRET_KEY: 'DJANGO_SECRET_KEY',
  STATIC_URL: 'DJANGO_STATIC_URL',
} as const;

/** Names the library owns: a user `environment`/`secrets` entry with one of these is an error. */
export const MANAGED_ENV_NAMES: readonly string[] = Object.values(SettingsEnv);

/**
 * Turns domain names (Django ALLOWED_HOSTS syntax: `example.com`, `.example.com`) into CSRF trusted
 * origins (`https://example.com`, `https://*.example.com`).
 */
export function csrfTrustedOrigins(allowedHosts: readonly string[], https: boolean): string[] {
  const scheme = https ? 'https' : 'http';
  return allowedHosts.map((d) => (d.startsWith('.') ? `${scheme}://*${d}` : `${scheme}://${d}`));
}

/** A Host header value that the ALLOWED_HOSTS entry `pattern` accepts. */
export function hostMatching(pattern: string): string {
  return pattern.startsWith('.') ? pattern.slice(1) : pattern;
}

/**
 * The app container's health check: a Python one-liner (python3 is in every Django image; curl is
 * not) that asks the app server for the health path with a Host Django allows and
 * X-Forwarded-Proto https (so SECURE_SSL_REDIRECT does not answer 301). Exits non-zero on any error.
 */
export function renderHealthProbe(port: number, path: string, timeoutSeconds: number): string[] {
  const script = [
    'import os,urllib.request as u',
    `h=os.environ.get('${SettingsEnv.ALLOWED_HOSTS}','localhost').split(',')[0].lstrip('.')`,
    `u.urlopen(u.Request('http://127.0.0.1:${port}${path}',headers={'Host':h,'X-Forwarded-Proto':'https'}),timeout=${timeoutSeconds})`,
  ].join(';');
  return ['CMD', 'python3', '-c', script];
}
