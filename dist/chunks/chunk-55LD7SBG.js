import { createRequire } from 'module'; const require = createRequire(import.meta.url);
var r=class extends Error{constructor(i,n,a=[],o){super(n,o);this.code=i;this.issues=a;this.name="AppError"}code;issues};function s(e){return e instanceof Error?e.message:String(e)}export{r as a,s as b};
