import { DjangoDaphneService, DjangoGunicornService, DjangoUwsgiService } from '../../src';
import { foreignPropProblems } from '../../src/services/foreign-props';
import { IMAGE, validationMessage } from '../helpers/template';

// A prop of another leaf, passed untyped (Python, or a spread of one service's props into another):
// refused with the prop named, never ignored.
describe('a prop another leaf has', () => {
  test.each<[string, (scope: any) => void, RegExp]>([
    ['uWSGI cache on Gunicorn', (s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, cache: { name: 'default' } } as any),
      /cache: the uWSGI cache exists only under uWSGI/],
    ['uWSGI cache on Daphne', (s) => new DjangoDaphneService(s, 'Web', { image: IMAGE, cache: { name: 'default' } } as any),
      /cache: the uWSGI cache exists only under uWSGI/],
    ['WebSocket paths on uWSGI', (s) => new DjangoUwsgiService(s, 'Web', { image: IMAGE, websocketPaths: ['/ws/'] } as any),
      /websocketPaths: uWSGI serves WSGI only/],
  ])('%s is a ValidationError naming it', (_label, build, message) => {
    expect(validationMessage(build)).toMatch(message);
  });

  test('only props that are given count', () => {
    expect(foreignPropProblems({ cache: undefined, other: 1 }, { cache: 'no' })).toEqual([]);
    expect(foreignPropProblems({ cache: {} }, { cache: 'no' })).toEqual([{ prop: 'cache', message: 'no' }]);
  });
});
