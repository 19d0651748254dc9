import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{a,b}from"./chunk-HZ5SMDN3.js";import"./chunk-5B7BHNZK.js";import"./chunk-KKM7PONK.js";export{a as createPgDb,b as quoteIdent};
