// The JSON Merge Patch (RFC 7396) that turns `before` into `after`, as `PATCH /v1/users/{id}`
// applies it to `custom_metadata`: removed keys become `null`, nested objects are patched
// recursively, anything else that differs is replaced whole. A merge patch cannot store a
// `null` (it means "remove"), so `after` must hold none: see `nullPath`.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function mergePatch(before: JsonObject, after: JsonObject): JsonObject {
  // Entries, not assignments: a key named `__proto__` stays a key.
  const patch: [string, Json][] = [];
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) patch.push([key, null]);
  }
  for (const [key, value] of Object.entries(after)) {
    const old = Object.hasOwn(before, key) ? before[key] : undefined;
    if (isObject(old) && isObject(value)) {
      const inner = mergePatch(old, value);
      if (Object.keys(inner).length > 0) patch.push([key, inner]);
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch.push([key, value]);
    }
  }
  return Object.fromEntries(patch);
}

/** Where `value` holds a `null` (`plan.tier`, `tags[2]`), or `null` if it holds none. */
export function nullPath(value: Json, path = ""): string | null {
  if (value === null) return path || "(the whole value)";
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nullPath(item, `${path}[${index}]`);
      if (found) return found;
    }
  } else if (typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = nullPath(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

export type { Json };
