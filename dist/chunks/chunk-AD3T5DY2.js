import { createRequire } from 'module'; const require = createRequire(import.meta.url);
var r=class extends Error{constructor(i,n,s=[],o){super(n,o);this.code=i;this.issues=s;this.name="AppError"}code;issues};function a(e){return e instanceof Error?e.message:String(e)}export{r as a,a as b};
