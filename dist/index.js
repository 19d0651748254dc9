import { createRequire } from 'module'; const require = createRequire(import.meta.url);
var s="0.1.0";if(process.argv.includes("--version"))process.stdout.write(`levqor-action ${s}
`);else{let{run:e}=await import("./chunks/main-ATLJDAYZ.js");await e(),setTimeout(()=>process.exit(),250).unref()}
