#!/usr/bin/env python3
"""Renders the expected outputs of the chat-template golden tests with Python's jinja2.

Templates are rendered the way Hugging Face transformers renders chat templates:
jinja2's ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loop
controls extension and the {% generation %} tag, `raise_exception(msg)`, `strftime_now(fmt)`
(fixed to 2024-09-26 12:00:00 here, for reproducible outputs) and `tojson` as transformers
defines it (json.dumps with ensure_ascii=False and optional indent/separators/sort_keys).

Outputs (committed; the C++ tests do not need Python):
  tests/data/chat/expected/<template>__<conversation>.txt    rendered prompt
  tests/data/chat/expected/<template>__<conversation>.error  when rendering raises
      for every template in ../shared/templates and tests/data/chat/templates and every
      conversation in tests/data/chat/conversations;
  tests/data/chat/expected/capabilities.json   the normalisation each template gets;
  tests/data/chat/jinja/expected/<file>.json   for the language cases in tests/data/chat/jinja.

Request messages are normalised exactly as inferd's ChatTemplate does (src/chat/chat_template.h):
content-part arrays are joined unless the template iterates message content, and tool-call
arguments become objects for templates that only render them correctly as objects (found by
rendering a probe tool call both ways).

Usage: python3 scripts/render_chat_templates.py [--check]   (from the repository root)
"""
import argparse
import copy
import datetime
import glob
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHARED_TEMPLATES = os.path.normpath(os.path.join(ROOT, "..", "shared", "templates"))
DATA = os.path.join(ROOT, "tests", "data", "chat")
FIXED_NOW = datetime.datetime(2024, 9, 26, 12, 0, 0)
DEFAULT_BOS = "<s>"
DEFAULT_EOS = "</s>"

PROBE_JSON = '{"probe_argument": "probe_value"}'
PROBE_REPR = "{'probe_argument': 'probe_value'}"


class GenerationTag(jinja2.ext.Extension):
    """transformers' {% generation %} block, rendered in place (no token tracking)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def make_env(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
    env = ImmutableSandboxedEnvironment(trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks,
                                        keep_trailing_newline=keep_trailing_newline,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def error_text(e):
    return f"{type(e).__name__}: {e}"


def render(env, source, variables):
    """("output", text) or ("error", description)."""
    try:
        return "output", env.from_string(source).render(**variables)
    except Exception as e:  # noqa: BLE001 - any failure is an expected-error outcome
        return "error", error_text(e)


# ---- chat request normalisation (mirrors src/chat/chat_messages.cpp) ---------------------------

def is_content_access(node):
    if isinstance(node, jinja2.nodes.Getattr):
        return node.attr == "content"
    if isinstance(node, jinja2.nodes.Getitem):
        return isinstance(node.arg, jinja2.nodes.Const) and node.arg.value == "content"
    return False


def iterates_content(env, source):
    ast = env.parse(source)
    names = {n.target.name for n in ast.find_all(jinja2.nodes.Assign)
             if isinstance(n.target, jinja2.nodes.Name) and is_content_access(n.node)}
    for loop in ast.find_all(jinja2.nodes.For):
        if is_content_access(loop.iter):
            return True
        if isinstance(loop.iter, jinja2.nodes.Name) and loop.iter.name in names:
            return True
    return False


PROBE_TOOLS = [{"type": "function", "function": {
    "name": "probe_function", "description": "Probe.",
    "parameters": {"type": "object", "properties": {"probe_argument": {"type": "string",
                   "description": "Probe."}}, "required": ["probe_argument"]}}}]


def wants_object_arguments(env, source):
    def probe(arguments, tools):
        messages = [
            {"role": "user", "content": "probe"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call00001", "type": "function",
                 "function": {"name": "probe_function", "arguments": arguments}}]},
        ]
        kind, text = render(env, source, {"messages": messages, "tools": tools, "documents": None,
                                          "add_generation_prompt": False, "bos_token": "",
                                          "eos_token": ""})
        return text if kind == "output" else ""

    # Probed without and with a tool list: some templates only render tool calls in one case.
    for tools in (None, PROBE_TOOLS):
        as_string = probe(PROBE_JSON, tools)
        as_object = probe(json.loads(PROBE_JSON), tools)
        renders_string = PROBE_JSON in as_string
        renders_object = PROBE_JSON in as_object or PROBE_REPR in as_object
        if renders_object and not renders_string:
            return True
    return False


class NormalizeError(Exception):
    pass


def normalize_messages(messages, caps):
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise NormalizeError(f"messages[{i}] must be an object")
        m = copy.deepcopy(message)
        content = m.get("content")
        if isinstance(content, list) and not caps["iterates_content"]:
            text = ""
            for part in content:
                if not isinstance(part, dict):
                    raise NormalizeError(f"messages[{i}].content: content parts must be objects")
                kind = part.get("type") if isinstance(part.get("type"), str) else ""
                if kind != "text":
                    raise NormalizeError(
                        f"messages[{i}].content: content part type '{kind}' is not supported")
                if not isinstance(part.get("text"), str):
                    raise NormalizeError(f"messages[{i}].content: text part without a string 'text'")
                text += part["text"]
            m["content"] = text
        calls = m.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    continue
                function = call["function"]
                if "arguments" not in function:
                    continue
                arguments = function["arguments"]
                if caps["object_arguments"] and isinstance(arguments, str):
                    try:
                        parsed = json.loads(arguments)
                    except ValueError:
                        parsed = None
                    if isinstance(parsed, dict):
                        function["arguments"] = parsed
                elif not caps["object_arguments"] and isinstance(arguments, dict):
                    function["arguments"] = json.dumps(arguments, ensure_ascii=False)
        out.append(m)
    return out


def render_conversation(env, source, caps, conversation):
    try:
        messages = normalize_messages(conversation["messages"], caps)
    except NormalizeError as e:
        return "error", error_text(e)
    variables = {
        "messages": messages,
        "tools": conversation.get("tools"),
        "documents": None,
        "add_generation_prompt": conversation.get("add_generation_prompt", True),
        "bos_token": conversation.get("bos_token", DEFAULT_BOS),
        "eos_token": conversation.get("eos_token", DEFAULT_EOS),
    }
    variables.update(conversation.get("extra", {}))
    return render(env, source, variables)


# ---- outputs -----------------------------------------------------------------------------------

class Writer:
    def __init__(self, check):
        self.check = check
        self.stale = []
        self.written = set()

    def write(self, path, text):
        self.written.add(os.path.normpath(path))
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as f:
                old = f.read()
        if old == text:
            return
        if self.check:
            self.stale.append(path)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def prune(self, pattern):
        for path in glob.glob(pattern):
            if os.path.normpath(path) in self.written:
                continue
            if self.check:
                self.stale.append(path)
            else:
                os.remove(path)


def template_files():
    files = {}
    for directory in (SHARED_TEMPLATES, os.path.join(DATA, "templates")):
        for path in sorted(glob.glob(os.path.join(directory, "*.jinja"))):
            stem = os.path.splitext(os.path.basename(path))[0]
            if stem in files:
                sys.exit(f"duplicate template name {stem}")
            files[stem] = path
    return files


def render_chat_pairs(writer):
    env = make_env()
    conversations = {}
    for path in sorted(glob.glob(os.path.join(DATA, "conversations", "*.json"))):
        with open(path, encoding="utf-8") as f:
            conversations[os.path.splitext(os.path.basename(path))[0]] = json.load(f)
    expected_dir = os.path.join(DATA, "expected")
    summary = []
    all_caps = {}
    for stem, path in template_files().items():
        with open(path, encoding="utf-8", newline="") as f:
            source = f.read()
        caps = {"iterates_content": iterates_content(env, source),
                "object_arguments": wants_object_arguments(env, source)}
        all_caps[stem] = caps
        errors = 0
        for conv_stem, conversation in conversations.items():
            kind, text = render_conversation(env, source, caps, conversation)
            base = os.path.join(expected_dir, f"{stem}__{conv_stem}")
            if kind == "output":
                writer.write(base + ".txt", text)
            else:
                errors += 1
                writer.write(base + ".error", text + "\n")
        summary.append(f"{stem}: {len(conversations) - errors} rendered, {errors} errors, caps {caps}")
    writer.write(os.path.join(expected_dir, "capabilities.json"),
                 json.dumps(all_caps, indent=1, sort_keys=True) + "\n")
    writer.prune(os.path.join(expected_dir, "*"))
    return summary


def render_jinja_cases(writer):
    summary = []
    case_dir = os.path.join(DATA, "jinja")
    for path in sorted(glob.glob(os.path.join(case_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        env = make_env(**spec.get("env", {}))
        base_context = spec.get("context", {})
        results = {}
        for case in spec["cases"]:
            context = dict(base_context)
            context.update(case.get("context", {}))
            kind, text = render(env, case["template"], context)
            results[case["name"]] = {kind: text}
        stem = os.path.splitext(os.path.basename(path))[0]
        writer.write(os.path.join(case_dir, "expected", stem + ".json"),
                     json.dumps(results, ensure_ascii=False, indent=1) + "\n")
        summary.append(f"{stem}: {len(results)} cases")
    writer.prune(os.path.join(case_dir, "expected", "*.json"))
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if outputs are out of date")
    args = parser.parse_args()
    if not os.path.isdir(SHARED_TEMPLATES):
        sys.exit(f"missing {SHARED_TEMPLATES}")
    writer = Writer(args.check)
    for line in render_chat_pairs(writer) + render_jinja_cases(writer):
        print(line)
    if writer.stale:
        print("out of date:", *writer.stale, sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
