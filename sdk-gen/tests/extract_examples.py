"""Extracts the examples of docs/resources/*.md into files that the SDK checks compile.

usage: extract_examples.py DOCS_DIR OUT_DIR
  OUT_DIR/python/example_<type>.py      (type-checked with mypy --strict, then run)
  OUT_DIR/typescript/example_<type>.ts  (type-checked with tsc)
  OUT_DIR/go/example_<type>/main.go     (the snippet wrapped in func main, go vet)
"""

import pathlib
import re
import sys

FENCE = re.compile(r"```(python|typescript|go)\n(.*?)```", re.S)


def go_program(snippet: str) -> str:
    imports, _, body = snippet.partition(")\n")
    body = "\n".join("\t" + line if line else line for line in body.strip().splitlines())
    return f"package main\n\n{imports})\n\nfunc main() {{\n{body}\n\t_ = example\n}}\n"


def main(docs: pathlib.Path, out: pathlib.Path) -> None:
    for page in sorted(docs.glob("*.md")):
        name = page.stem
        found = {lang: code for lang, code in FENCE.findall(page.read_text())}
        if set(found) != {"python", "typescript", "go"}:
            sys.exit(f"{page}: expected one example per language, found {sorted(found)}")
        targets = {
            "python": (out / "python" / f"example_{name}.py", found["python"]),
            "typescript": (out / "typescript" / f"example_{name}.ts", found["typescript"]),
            "go": (out / "go" / f"example_{name}" / "main.go", go_program(found["go"])),
        }
        for path, text in targets.values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
