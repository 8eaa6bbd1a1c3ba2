// A watched folder's include/exclude globs, as the engine applies them (the `ignore`
// crate's overrides, gitignore syntax): `*` and `?` stay inside one path segment, `**`
// crosses them, `[…]` and `{a,b}` as usual; a pattern without a `/` matches a name at any
// depth, one with a `/` the path from the folder's root; a trailing `/` only folders.
// Includes pick files; an excluded folder leaves out everything under it.
import { err } from "./data";

type Matcher = (rel: string) => boolean;

interface Glob {
  /** matches a name (unanchored) or a root-relative path (anchored) */
  test: Matcher;
  anchored: boolean;
  dirOnly: boolean;
}

/** The engine's rejection of a bad glob (trove_core::library::folders::overrides). */
function invalid(g: string, why: string) {
  return err("invalid", `not a valid pattern: ${JSON.stringify(g)} (error parsing glob '${g}': ${why})`);
}

const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function compile(raw: string): Glob {
  let g = raw;
  const dirOnly = g.length > 1 && g.endsWith("/");
  if (dirOnly) g = g.slice(0, -1);
  const anchored = g.includes("/");
  if (g.startsWith("/")) g = g.slice(1);
  let re = "";
  let inAlt = false;
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === "\\") {
      if (i + 1 >= g.length) throw invalid(raw, "dangling '\\'");
      re += literal(g[++i]!);
    } else if (c === "*") {
      if (g[i + 1] === "*") {
        const atStart = i === 0 || g[i - 1] === "/";
        i += 1;
        if (atStart && g[i + 1] === "/") {
          re += "(?:.*/)?";
          i += 1;
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = g.indexOf("]", i + 2);
      if (end < 0) throw invalid(raw, "unclosed character class; missing ']'");
      let body = g.slice(i + 1, end);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "{") {
      if (inAlt) throw invalid(raw, "nested alternate groups are not allowed");
      inAlt = true;
      re += "(?:";
    } else if (c === "}") {
      if (!inAlt) throw invalid(raw, "unopened alternate group; missing '{' (maybe escape '}' with '[}]'?)");
      inAlt = false;
      re += ")";
    } else if (c === "," && inAlt) re += "|";
    else re += literal(c);
  }
  if (inAlt) throw invalid(raw, "unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)");
  const rx = new RegExp(`^${re}$`);
  return { test: (s) => rx.test(s), anchored, dirOnly };
}

/**
 * A folder's rules as one test of a root-relative file path ("notes/a.md"); throws the
 * engine's `invalid` error for a bad pattern (checked before anything is changed).
 */
export function folderRules(include: readonly string[], exclude: readonly string[]): Matcher {
  const inc = include.map(compile);
  const exc = exclude.map((g) => compile(g.replace(/^!/, "")));
  return (rel) => {
    const parts = rel.split("/");
    const name = parts[parts.length - 1]!;
    const onFile = (g: Glob) => !g.dirOnly && g.test(g.anchored ? rel : name);
    // the folders above the file, as their names and as root-relative paths
    const onDirs = (g: Glob) =>
      parts.slice(0, -1).some((dir, i) => g.test(g.anchored ? parts.slice(0, i + 1).join("/") : dir));
    if (exc.some((g) => onFile(g) || onDirs(g))) return false;
    return inc.length === 0 || inc.some(onFile);
  };
}
