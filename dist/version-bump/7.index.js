export const id = 7;
export const ids = [7];
export const modules = {

/***/ 7007:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  loadConfig: () => (/* binding */ loadConfig)
});

// UNUSED EXPORTS: DEFAULT_BRANCHES, DEFAULT_CONFIG_PATH, DEFAULT_NOTIFY_EVENTS, NOTIFY_EVENTS, componentTagTemplate, defaultConfig, dependencyMap, loadConfigLazily, parseConfig, requireComponent, tagTemplateFor

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./node_modules/zod/v4/classic/schemas.js + 17 modules
var schemas = __webpack_require__(8816);
// EXTERNAL MODULE: ./src/core/config-defaults.ts
var config_defaults = __webpack_require__(6104);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(4296);
;// CONCATENATED MODULE: ./src/core/graph.ts
/** The `dependsOn` graph: cycles, waves in topological order, and dependents. */
/** A cycle as a path that returns to its start (a → b → a), or null when there is none. */
function findCycle(deps) {
    const state = new Map();
    const stack = [];
    const visit = (n) => {
        state.set(n, 'visiting');
        stack.push(n);
        for (const d of deps[n] ?? []) {
            if (!(d in deps))
                continue;
            const s = state.get(d);
            if (s === 'visiting')
                return [...stack.slice(stack.indexOf(d)), d];
            if (!s) {
                const c = visit(d);
                if (c)
                    return c;
            }
        }
        stack.pop();
        state.set(n, 'done');
        return null;
    };
    for (const n of Object.keys(deps)) {
        if (!state.has(n)) {
            const c = visit(n);
            if (c)
                return c;
        }
    }
    return null;
}
/**
 * Group `deps`' nodes into waves: every node comes after all it depends on; nodes of
 * one wave have no path between them. Ties keep the declaration order. Assumes no cycle.
 */
function waves(deps) {
    const names = Object.keys(deps);
    const level = new Map();
    const depth = (n, seen = new Set()) => {
        const known = level.get(n);
        if (known !== undefined)
            return known;
        if (seen.has(n))
            throw new Error(`dependency cycle through ${n}`);
        seen.add(n);
        let l = 0;
        for (const d of deps[n] ?? [])
            if (d in deps)
                l = Math.max(l, depth(d, seen) + 1);
        level.set(n, l);
        return l;
    };
    const out = [];
    for (const n of names) {
        const l = depth(n);
        (out[l] ??= []).push(n);
    }
    return out.filter((w) => w && w.length > 0);
}
/** All nodes in topological order (waves flattened). */
function topologicalOrder(deps) {
    return waves(deps).flat();
}
/** `roots` and every node that depends on one of them, directly or transitively. */
function withDependents(deps, roots) {
    const reverse = new Map();
    for (const [n, ds] of Object.entries(deps))
        for (const d of ds)
            (reverse.get(d) ?? reverse.set(d, []).get(d)).push(n);
    const out = new Set();
    const queue = [...roots];
    while (queue.length) {
        const n = queue.shift();
        if (out.has(n))
            continue;
        out.add(n);
        queue.push(...(reverse.get(n) ?? []));
    }
    return out;
}
/**
 * A node's label inside `["…"]`: Mermaid's entity codes for what would end the string or
 * be read as markup, so any name draws as written.
 */
function mermaidLabel(text) {
    return text.replace(/[#"<>&\\`]/g, (c) => `#${c.codePointAt(0)};`).replace(/[\r\n]+/g, ' ');
}
/**
 * A Mermaid flowchart of the graph. Node ids are `n0`, `n1`, … in declaration order, so a
 * component named `end`, `class` or `graph` (keywords) draws, and `web-app`, `web.app` and
 * `web_app` stay three nodes; the name is the label. `classOf` puts a node in a class.
 */
function mermaidGraph(deps, options = {}) {
    const names = Object.keys(deps);
    const ids = new Map(names.map((n, i) => [n, `n${i}`]));
    const lines = ['```mermaid', 'flowchart LR'];
    for (const n of names)
        lines.push(`  ${ids.get(n)}["${mermaidLabel(n)}"]`);
    for (const [n, ds] of Object.entries(deps))
        for (const d of ds)
            if (ids.has(d))
                lines.push(`  ${ids.get(d)} --> ${ids.get(n)}`);
    const members = new Map();
    for (const n of names) {
        const c = options.classOf?.(n);
        if (!c)
            continue;
        const m = members.get(c.name) ?? members.set(c.name, { style: c.style, nodes: [] }).get(c.name);
        m.nodes.push(ids.get(n));
    }
    for (const [name, m] of members) {
        lines.push(`  classDef ${name} ${m.style}`);
        lines.push(`  class ${m.nodes.join(',')} ${name}`);
    }
    lines.push('```');
    return lines.join('\n');
}
const SELECTED = { name: 'selected', style: 'fill:#d1f7c4,stroke:#2b8a3e' };
/** A Mermaid flowchart of the graph, highlighting `selected` nodes. */
function mermaid(deps, selected) {
    return mermaidGraph(deps, { classOf: (n) => (selected?.has(n) ? SELECTED : undefined) });
}

// EXTERNAL MODULE: ./node_modules/js-yaml/dist/js-yaml.mjs
var js_yaml = __webpack_require__(3243);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
;// CONCATENATED MODULE: ./src/core/yaml-source.ts
/**
 * YAML parsing that remembers where every value came from, so a validation error can
 * name the file, line and column of the offending key.
 */



/**
 * Parse YAML text; a syntax error becomes a UserError with its line and column. The value
 * comes from js-yaml (core schema, the same YAML 1.2 types as `yaml`), about eight times
 * faster on a cold start, which matters for a policy file of thousands of components; the
 * position-keeping `yaml` parse only runs when something is wrong and must be located.
 */
function parseYaml(text, file, origin = {}) {
    // Such keys and aliases are refused with their line by the located parse (see toValue).
    if (/__proto__|constructor|prototype|(^|[\s[{,])\*[^\s*,\]}]/m.test(text))
        return parseYamlLocated(text, file, origin);
    let value;
    try {
        value = js_yaml/* default.load */.Ay.load(text, { schema: js_yaml/* default.CORE_SCHEMA */.Ay.CORE_SCHEMA, json: false }) ?? null;
    }
    catch {
        return parseYamlLocated(text, file, origin);
    }
    let located;
    const slow = () => (located ??= parseYamlLocated(text, file, origin));
    return {
        file,
        value,
        locate: (path) => slow().locate(path),
        errorAt: (path, message) => slow().errorAt(path, message),
    };
}
/** Parse with `yaml`, keeping every node's position. */
function parseYamlLocated(text, file, origin = {}) {
    // An annotation's file must be one the runner can show; an input's name is not.
    const annotation = (loc) => (origin.input ? {} : loc);
    const lineCounter = new dist/* LineCounter */.HN();
    const doc = (0,dist/* parseDocument */.Tp)(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
        const e = doc.errors[0];
        const pos = lineCounter.linePos(e.pos[0]);
        const detail = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        throw new errors/* UserError */.yo(`${file}:${pos.line}:${pos.col}: invalid YAML: ${detail}`, annotation({ file, line: pos.line, column: pos.col }));
    }
    const value = toValue(doc, lineCounter, file, annotation);
    const locate = (path) => {
        const offset = findOffset(doc, path);
        if (offset === undefined)
            return { file };
        const pos = lineCounter.linePos(offset);
        return { file, line: pos.line, column: pos.col };
    };
    return {
        file,
        value,
        locate,
        errorAt(path, message) {
            const loc = locate(path);
            const where = loc.line ? `${file}:${loc.line}:${loc.column}` : file;
            const key = formatPath(path);
            return new errors/* UserError */.yo(`${where}: ${key ? `${key}: ` : ''}${message}`, annotation(loc));
        },
    };
}
/** Keys that would set an object's prototype instead of being a key: never a name in a policy file. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * The document's value. Refused, at their line: aliases expanded more than 100 times (an
 * "alias bomb", a document of a few lines that expands to millions of nodes), and keys such
 * as `__proto__` that JavaScript objects cannot hold as plain keys (they would vanish).
 */
function toValue(doc, lineCounter, file, annotation) {
    const fail = (offset, message) => {
        const pos = lineCounter.linePos(offset ?? 0);
        throw new errors/* UserError */.yo(`${file}:${pos.line}:${pos.col}: ${message}`, annotation({ file, line: pos.line, column: pos.col }));
    };
    let aliasAt;
    (0,dist/* visit */.YR)(doc, {
        Pair(_, pair) {
            if ((0,dist/* isScalar */.jn)(pair.key) && PROTOTYPE_KEYS.has(String(pair.key.value)))
                fail(pair.key.range?.[0], `key "${String(pair.key.value)}" is not allowed (expected a name of letters, digits, "-", "_" or ".")`);
        },
        Alias(_, alias) {
            aliasAt ??= alias.range?.[0];
        },
    });
    try {
        return doc.toJS({ maxAliasCount: 100 });
    }
    catch (err) {
        if (err instanceof ReferenceError && /alias/i.test(err.message))
            fail(aliasAt, 'invalid YAML: aliases expand to too many nodes (more than 100 uses of an alias; an alias bomb?)');
        throw err;
    }
}
/** The text offset of the key (for maps) or item (for sequences) at `path`. */
function findOffset(doc, path) {
    let node = doc.contents;
    let offset = node?.range?.[0];
    for (const seg of path) {
        if ((0,dist/* isMap */.jh)(node)) {
            const pair = node.items.find((p) => (0,dist/* isPair */.tO)(p) && (0,dist/* isScalar */.jn)(p.key) && String(p.key.value) === String(seg));
            if (!pair)
                return offset;
            offset = pair.key.range?.[0] ?? offset;
            node = pair.value;
        }
        else if ((0,dist/* isSeq */.oP)(node) && typeof seg === 'number') {
            const item = node.items[seg];
            if (!item)
                return offset;
            offset = item.range?.[0] ?? offset;
            node = item;
        }
        else {
            return offset;
        }
    }
    return offset;
}
/** `components.backend.dependsOn[0]` from a key path. */
function formatPath(path) {
    let out = '';
    for (const seg of path) {
        if (typeof seg === 'number')
            out += `[${seg}]`;
        else
            out += out ? `.${String(seg)}` : String(seg);
    }
    return out;
}
/** Validate a parsed YAML value with zod; the first problem becomes a located UserError. */
function validateYaml(source, schema, base = []) {
    const value = base.reduce((v, k) => v?.[k], source.value);
    const result = schema.safeParse(value);
    if (result.success)
        return result.data;
    const issue = result.error.issues[0];
    let path = [...base, ...issue.path];
    let message = describeIssue(issue);
    if (issue.code === 'unrecognized_keys') {
        path = [...path, issue.keys[0]];
        message = `unknown key "${issue.keys[0]}"`;
    }
    throw source.errorAt(path, message);
}
/** zod's message, made to read as "expected …" where it can. */
function describeIssue(issue) {
    const m = issue.message.replace(/^Invalid input: /, '');
    if (issue.code === 'invalid_type' && / received undefined$/.test(m))
        return `is required (expected ${issue.expected})`;
    // A bad key of a record (a component's name): say which and what a name may be.
    if (issue.code === 'invalid_key') {
        const inner = issue.issues[0]?.message.replace(/^Invalid input: /, '') ?? 'not a valid name';
        return `invalid name: ${inner}`;
    }
    return m;
}

;// CONCATENATED MODULE: ./src/core/config.ts
/**
 * The policy file, `.github/slipway.yml`: one description of the product that all six
 * actions read. Parsed with `yaml`, validated with zod; every error names the file, the
 * line and column, the key path and what was expected.
 */








const tagTemplate = schemas/* string */.YjP().refine((t) => t.includes('{version}'), {
    message: 'expected a tag template containing {version}, e.g. "v{version}"',
});
const semverString = schemas/* string */.YjP()
    .regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, { message: 'expected a semantic version such as 0.1.0' });
const channel = schemas/* enum */.k5n(['stable', 'rc', 'beta', 'alpha', 'none'], {
    message: 'expected one of stable, rc, beta, alpha, none',
});
const bumpKind = schemas/* enum */.k5n(['major', 'minor', 'patch'], { message: 'expected one of major, minor, patch' });
const branchRule = schemas/* strictObject */.rej({
    match: schemas/* string */.YjP().min(1),
    channel,
    bump: bumpKind.optional(),
    /** The prerelease identifier of this channel (default: the channel's name). */
    prerelease: schemas/* string */.YjP()
        .regex(/^[0-9A-Za-z-]+$/)
        .optional(),
});
const envRef = schemas/* strictObject */.rej({
    env: schemas/* string */.YjP().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' }),
});
const migrateSchema = schemas/* strictObject */.rej({
    dir: schemas/* string */.YjP().default('migrations'),
    database: envRef.optional(),
    tool: schemas/* enum */.k5n(['builtin', 'command']).default('builtin'),
    command: schemas/* string */.YjP().optional(),
    table: schemas/* string */.YjP().optional(),
    /** A reviewed destructive migration may run (the migrate action's allow-destructive, for this component). */
    allowDestructive: schemas/* boolean */.zMY().optional(),
});
const deploySchema = schemas/* looseObject */._H3({
    target: schemas/* string */.YjP().default('command'),
    run: schemas/* string */.YjP().optional(),
    rollback: schemas/* string */.YjP().optional(),
    status: schemas/* string */.YjP().optional(),
    timeout: schemas/* number */.aig().int().positive().optional(),
});
const buildSchema = schemas/* strictObject */.rej({
    run: schemas/* string */.YjP().min(1),
    inputs: schemas/* array */.YOg(schemas/* string */.YjP()).optional(),
    /** Files the build leaves behind, restored from the build cache on a hit. */
    outputs: schemas/* array */.YOg(schemas/* string */.YjP().min(1)).optional(),
});
const componentSchema = schemas/* strictObject */.rej({
    kind: schemas/* enum */.k5n(['service', 'data', 'migrations', 'frontend', 'proxy', 'worker', 'library']).optional(),
    paths: schemas/* array */.YOg(schemas/* string */.YjP().min(1)).default([]),
    dependsOn: schemas/* array */.YOg(schemas/* string */.YjP()).default([]),
    tag: tagTemplate.optional(),
    build: buildSchema.optional(),
    deploy: deploySchema.optional(),
    health: schemas/* array */.YOg(schemas/* record */.g1P(schemas/* string */.YjP(), schemas/* unknown */.L5J())).default([]),
    migrate: migrateSchema.optional(),
});
const environmentSchema = schemas/* strictObject */.rej({
    url: schemas/* string */.YjP().optional(),
    after: schemas/* string */.YjP().optional(),
});
/** Every event a notification can subscribe to. */
const NOTIFY_EVENTS = [
    'deploy-started',
    'deploy-succeeded',
    'deploy-failed',
    'deploy-rolled-back',
    'migration-failed',
    'release-published',
];
/** What an entry without `events` receives: everything but deploy-started, which would double the messages. */
const DEFAULT_NOTIFY_EVENTS = NOTIFY_EVENTS.filter((e) => e !== 'deploy-started');
const notifyEvents = schemas/* array */.YOg(schemas/* enum */.k5n(NOTIFY_EVENTS)).default([...DEFAULT_NOTIFY_EVENTS]);
const webhookNotify = schemas/* strictObject */.rej({
    kind: schemas/* enum */.k5n(['slack', 'discord', 'teams', 'webhook']),
    webhook: envRef,
    events: notifyEvents,
});
const emailAddress = schemas/* string */.YjP().regex(/^[^\s@<>,]+@[^\s@<>,]+$/, { message: 'expected an email address' });
const emailNotify = schemas/* strictObject */.rej({
    kind: schemas/* literal */.euz('email'),
    smtp: schemas/* strictObject */.rej({ url: envRef }),
    from: emailAddress,
    to: schemas/* union */.KCZ([emailAddress, schemas/* array */.YOg(emailAddress).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
    events: notifyEvents,
});
// An entry without `kind` is a Slack webhook, as every notify entry was before channels existed.
const notifySchema = schemas/* preprocess */.vkY((v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'slack', ...v } : v), schemas/* discriminatedUnion */.gMt('kind', [webhookNotify, emailNotify], {
    error: () => 'expected "kind" to be one of slack, discord, teams, webhook, email',
}));
const configSchema = schemas/* strictObject */.rej({
    versioning: schemas/* strictObject */.rej({
        tag: tagTemplate.default('v{version}'),
        initial: semverString.default('0.1.0'),
        branches: schemas/* array */.YOg(branchRule).optional(),
    })
        .default({ tag: 'v{version}', initial: '0.1.0' }),
    components: schemas/* record */.g1P(schemas/* string */.YjP().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
        message: 'expected a component name of letters, digits, "-", "_" or "."',
    }), componentSchema)
        .default({}),
    environments: schemas/* record */.g1P(schemas/* string */.YjP(), environmentSchema).default({}),
    notify: schemas/* array */.YOg(notifySchema).default([]),
});
/**
 * Load the policy file. `configInput` empty means `.github/slipway.yml`, and a missing
 * default file means defaults; a named file that is missing, unreadable or invalid is an error.
 */
async function loadConfig(cwd, configInput = '') {
    const explicit = configInput.trim() !== '';
    const rel = explicit ? configInput.trim() : config_defaults/* DEFAULT_CONFIG_PATH */.Bi;
    const abs = external_node_path_default().resolve(cwd, rel);
    let text;
    try {
        text = await (0,promises_.readFile)(abs, 'utf8');
    }
    catch (err) {
        const code = err.code;
        if (code === 'ENOENT' && !explicit)
            return (0,config_defaults/* defaultConfig */.sb)();
        if (code === 'ENOENT')
            throw new errors/* UserError */.yo(`input "config": expected the path of a policy file in the repository, got ${JSON.stringify(rel)} (no such file)`);
        throw new errors/* UserError */.yo(`config: cannot read ${rel}: ${code ?? String(err)}`);
    }
    return parseConfig(text, rel);
}
/** Parse and validate the text of a policy file; `file` is used in messages. */
function parseConfig(text, file) {
    const source = parseYaml(text, file);
    if (source.value === null || source.value === undefined) {
        return { ...(0,config_defaults/* defaultConfig */.sb)(), file };
    }
    if (typeof source.value !== 'object' || Array.isArray(source.value)) {
        throw source.errorAt([], 'expected a mapping with versioning, components and environments');
    }
    const parsed = validateYaml(source, configSchema);
    const components = {};
    for (const [name, c] of Object.entries(parsed.components))
        components[name] = { ...c, name };
    checkReferences(source, components, parsed.environments);
    checkTagSeries(source, components, parsed.versioning.tag);
    return {
        file,
        versioning: {
            tag: parsed.versioning.tag,
            initial: parsed.versioning.initial,
            branches: parsed.versioning.branches ?? config_defaults/* DEFAULT_BRANCHES */.J1,
        },
        components,
        environments: parsed.environments,
        notify: parsed.notify,
        locate: source.locate,
        errorAt: source.errorAt,
    };
}
/** dependsOn names real components without a cycle; `after` names a real environment. */
function checkReferences(source, components, envs) {
    for (const [name, c] of Object.entries(components)) {
        c.dependsOn.forEach((dep, i) => {
            if (!Object.hasOwn(components, dep)) {
                throw source.errorAt(['components', name, 'dependsOn', i], `unknown component "${dep}" (expected one of: ${Object.keys(components).join(', ')})`);
            }
            if (dep === name)
                throw source.errorAt(['components', name, 'dependsOn', i], `a component cannot depend on itself`);
        });
        if (c.deploy && c.deploy.target === 'command' && !c.deploy.run) {
            throw source.errorAt(['components', name, 'deploy'], 'a command target needs "run" (the command that deploys)');
        }
    }
    const cycle = findCycle(Object.fromEntries(Object.entries(components).map(([n, c]) => [n, c.dependsOn])));
    if (cycle) {
        throw source.errorAt(['components', cycle[0], 'dependsOn'], `dependency cycle: ${cycle.join(' → ')}`);
    }
    for (const [name, e] of Object.entries(envs)) {
        if (e.after && !Object.hasOwn(envs, e.after)) {
            throw source.errorAt(['environments', name, 'after'], `unknown environment "${e.after}" (expected one of: ${Object.keys(envs).join(', ')})`);
        }
    }
}
/**
 * No two tag series share a template: two components with the same tag, or a component
 * versioned on its own (it has paths or migrations) under the repository's template,
 * would read and write each other's tags. The error points at the later of the two.
 */
function checkTagSeries(source, components, repoTag) {
    const repo = { what: "the repository's series (versioning.tag)", path: ['versioning', 'tag'] };
    const seen = new Map();
    for (const [name, c] of Object.entries(components)) {
        const versioned = c.paths.length > 0 || c.migrate !== undefined;
        // A component without its own series only tags under an explicit template.
        const template = c.tag !== undefined || versioned ? (0,config_defaults/* componentTagTemplate */.cs)(name, c) : undefined;
        if (!template)
            continue;
        const owner = {
            what: `component "${name}"`,
            path: c.tag ? ['components', name, 'tag'] : ['components', name],
        };
        const first = seen.get(template) ?? (versioned && template === repoTag ? repo : undefined);
        if (!first) {
            seen.set(template, owner);
            continue;
        }
        // Point at whichever of the two comes later in the file, and name the other.
        const firstLine = written(source, first.path) ? source.locate(first.path).line : undefined;
        const ownerLine = source.locate(owner.path).line ?? 0;
        const [other, later, otherLine] = firstLine !== undefined && firstLine > ownerLine ? [owner, first, ownerLine] : [first, owner, firstLine];
        throw source.errorAt(later.path, `tag template "${template}" is also used by ${other.what}${otherLine ? ` (line ${otherLine})` : ''}${c.tag ? '' : ` (the default of component "${name}")`}: two tag series cannot share a template`);
    }
}
/** True when the key at `path` is written in the file (not a default). */
function written(source, path) {
    let v = source.value;
    for (const k of path) {
        if (v === null || typeof v !== 'object' || !(k in v))
            return false;
        v = v[k];
    }
    return true;
}
/** The components' dependency map. */
function dependencyMap(config) {
    return Object.fromEntries(Object.values(config.components).map((c) => [c.name, c.dependsOn]));
}


/***/ })

};
