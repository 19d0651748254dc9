import { createRequire } from 'module'; const require = createRequire(import.meta.url);
var e="0.1.0";if(process.argv.includes("--version"))process.stdout.write(`levqor-action ${e}
`);else{let{run:s}=await import("./chunks/main-IOXGHY4Q.js");await s(process.env)}
