// `make test`'s size check: prints what the widget's files weigh (release build in pkg/), raw and gzipped (-9),
// module by module as size-budget lists them, and fails when a module passes its limit, when the first load
// (the `first` modules) passes the limit on size-budget's first line, when that limit is above 60 KB, or when a
// limit rose in a commit that does not give the figure and the reason (the ratchet).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const root = new URL("../", import.meta.url);
const KB = 1024;
const CEILING = 60;

/** size-budget's first-load limit (KB) and its modules: { name, file, first, limit (bytes) }. */
export function budget(text) {
  const limit = Number(/^(\d+) KB/.exec(text)?.[1]);
  if (!Number.isInteger(limit)) throw new Error('size-budget: the first line must be the first-load limit, such as "47 KB"');
  const modules = [...text.matchAll(/^module\s+(\S+)\s+(\S+)\s+(first|later)\s+(\d+) KB\s*$/gm)].map(
    ([, name, file, when, kb]) => ({ name, file, first: when === "first", limit: Number(kb) * KB }),
  );
  if (!modules.some((m) => m.first)) throw new Error("size-budget: no `first` module");
  return { limit, modules };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { limit, modules } = budget(readFileSync(new URL("size-budget", root), "utf8"));
  const failures = [];
  let raw = 0;
  let zipped = 0;
  const kb = (n) => `${(n / KB).toFixed(1)} KB`;
  console.log("size report (release, gzip -9)");
  for (const when of [true, false]) {
    console.log(when ? "first load (before anyone touches the widget):" : "loaded when first needed (the panel, recommendations):");
    for (const m of modules.filter((x) => x.first === when)) {
      let bytes;
      try {
        bytes = readFileSync(new URL(m.file, root));
      } catch {
        console.log(`missing ${m.file}: run scripts/build.sh first`);
        process.exit(1);
      }
      const gz = gzipSync(bytes, { level: 9 }).length;
      if (when) {
        raw += bytes.length;
        zipped += gz;
      }
      const over = gz > m.limit;
      if (over) failures.push(`${m.name} (${m.file}) is ${gz} bytes gzipped, over its limit of ${m.limit / KB} KB`);
      console.log(`  ${m.name.padEnd(16)} ${String(bytes.length).padStart(8)} bytes raw ${String(gz).padStart(8)} bytes gzipped (${kb(gz)}; limit ${m.limit / KB} KB)${over ? "  OVER" : ""}`);
    }
  }
  console.log(`  ${"first load".padEnd(16)} ${String(raw).padStart(8)} bytes raw ${String(zipped).padStart(8)} bytes gzipped (${kb(zipped)}; limit ${limit} KB; target ${CEILING} KB)`);
  if (zipped > limit * KB) failures.push(`the first load is ${zipped} bytes gzipped, over the limit of ${limit} KB in size-budget`);
  if (limit > CEILING) failures.push(`size-budget says ${limit} KB: the first load may never be allowed above ${CEILING} KB`);
  // Limits only go down, unless the commit that raised one says so: a line `size-budget: <name> <old> -> <new> KB:
  // <reason>` in its message (`first-load` for the first line's limit). Checked over size-budget's whole history,
  // and the working copy against the last commit (commit a raise, with its reason, before make test accepts it).
  try {
    const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const limits = (text) => {
      const b = budget(text);
      return new Map([["first-load", b.limit * KB], ...b.modules.map((m) => [m.name, m.limit])]);
    };
    const raised = (before, after, message, where) => {
      for (const [name, limit] of after) {
        const old = before.get(name);
        if (old === undefined || limit <= old) continue;
        const said = new RegExp(`^size-budget: ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\d+ -> ${limit / KB} KB: \\S`, "m");
        if (!said.test(message)) {
          failures.push(`${where} raises ${name} from ${old / KB} to ${limit / KB} KB without a line "size-budget: ${name} ${old / KB} -> ${limit / KB} KB: <the reason>" in its commit message`);
        }
      }
    };
    const commits = git("log", "--reverse", "--format=%H", "--", "size-budget").split("\n").filter(Boolean);
    let previous = null;
    for (const commit of commits) {
      let current;
      try {
        current = limits(git("show", `${commit}:size-budget`));
      } catch {
        continue; // an older format, before per-module limits: its first line is still the first-load limit
      }
      if (previous) raised(previous, current, git("log", "-1", "--format=%B", commit), `commit ${commit.slice(0, 10)}`);
      previous = current;
    }
    if (previous) raised(previous, limits(readFileSync(new URL("size-budget", root), "utf8")), "", "the uncommitted size-budget");
  } catch {
    // No history here (a tarball): nothing to compare with.
  }
  for (const failure of failures) console.log(`FAIL: ${failure}`);
  process.exit(failures.length > 0 ? 1 : 0);
}
