import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{join as n,resolve as o}from"node:path";var s=".s.PGSQL.5432";function r(t){return`${o(t)}.run`}function i(t){return n(r(t),s)}function g(t){return`postgresql://postgres@${encodeURIComponent(r(t))}/postgres`}export{r as a,i as b,g as c};
