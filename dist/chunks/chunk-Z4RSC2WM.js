import { createRequire } from 'module'; const require = createRequire(import.meta.url);
function r(){return process.env}function n(){return r().GITHUB_WORKSPACE||process.cwd()}export{r as a,n as b};
