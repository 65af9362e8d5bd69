import { runValidate } from './dist/src/cli/validate.js';
const code = await runValidate(process.argv.slice(2), console.log, console.error);
console.log('exit', code);
