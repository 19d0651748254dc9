import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{join as r,resolve as n}from"node:path";var o=".s.PGSQL.5432";function e(t){return`${n(t)}.run`}function i(t){return r(e(t),o)}export{e as a,i as b};
