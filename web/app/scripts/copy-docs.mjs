// Builds dist/docs: Swagger UI (from the swagger-ui-dist package) over a copy of
// docs/openapi.yaml, so the server's /docs/ serves interactive API docs.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(app, '../..');
const out = join(app, 'dist', 'docs');
const swagger = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

mkdirSync(out, { recursive: true });
for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']) {
  copyFileSync(join(swagger, f), join(out, f));
}
for (const f of ['index.html', 'swagger-initializer.js']) copyFileSync(join(app, 'docs-ui', f), join(out, f));
copyFileSync(join(repo, 'docs', 'openapi.yaml'), join(out, 'openapi.yaml'));
console.log(`docs: Swagger UI and openapi.yaml in ${out}`);
