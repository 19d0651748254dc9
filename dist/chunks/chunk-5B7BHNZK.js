import { createRequire } from 'module'; const require = createRequire(import.meta.url);
var e=class extends Error{constructor(i,n,s=[],o){super(n,o);this.code=i;this.issues=s;this.name="AppError"}code;issues};function d(r){return r instanceof Error?r.message:String(r)}export{e as a,d as b};
