import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{a,b}from"./chunk-WX2LB4NS.js";import"./chunk-Z4RSC2WM.js";import"./chunk-KKM7PONK.js";export{a as readContext,b as runUrl};
