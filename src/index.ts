export { Proxy, ProxyKind, NginxProxyOptions } from './proxy/proxy';
export { StaticFiles, StaticFilesMode, StaticFilesFromImageOptions } from './static-files';
export { GunicornWorkerClass } from './servers/gunicorn';
export { DjangoServiceBase } from './services/service-base';
export { DjangoServiceBaseProps } from './services/service-props';
export { DjangoGunicornService, DjangoGunicornServiceProps } from './services/gunicorn-service';
