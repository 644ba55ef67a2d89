export { Proxy, ProxyKind, NginxProxyOptions } from './proxy/proxy';
export { StaticFiles, StaticFilesMode, StaticFilesFromImageOptions } from './static-files';
export { GunicornWorkerClass } from './servers/gunicorn';
export { DjangoServiceBase, DjangoServiceBaseProps } from './services/service-base';
export { DjangoGunicornService, DjangoGunicornServiceProps } from './services/gunicorn-service';
