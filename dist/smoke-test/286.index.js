export const id = 286;
export const ids = [286];
export const modules = {

/***/ 2286:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   hostOf: () => (/* binding */ hostOf),
/* harmony export */   probePostgres: () => (/* binding */ probePostgres)
/* harmony export */ });
/* harmony import */ var pg__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3849);
/* harmony import */ var _probe_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8253);
/** PostgreSQL checks: connect with `pg`, run the query, disconnect, all within the attempt's bound. */


// SQLSTATEs that another attempt cannot fix: bad credentials, unknown database or role, bad query.
const PERMANENT = /^(28|3D|42)/;
/** Connect and run the check's query; the latency covers both. */
async function probePostgres(check, ctx) {
    const where = `${check.env} → ${hostOf(check.connection)}`;
    const start = performance.now();
    const timeout = Math.max(1, Math.round(ctx.timeoutMs));
    const client = new pg__WEBPACK_IMPORTED_MODULE_0__/* ["default"].Client */ .Ay.Client({
        connectionString: check.connection,
        connectionTimeoutMillis: timeout,
        query_timeout: timeout,
        statement_timeout: timeout,
        application_name: 'slipway smoke-test',
    });
    // A connection error after the attempt is over must not crash the process.
    client.on('error', () => undefined);
    const onAbort = () => void client.end().catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
        await client.connect();
        await client.query(check.query);
        return { latencyMs: (0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .msSince */ .XR)(start) };
    }
    catch (err) {
        const e = err;
        if (ctx.signal.aborted)
            throw (0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .networkError */ .x6)(err, ctx, where);
        if (e.code && /^[0-9A-Z]{5}$/.test(e.code))
            throw new _probe_js__WEBPACK_IMPORTED_MODULE_1__/* .ProbeError */ .B2(`PostgreSQL answered ${e.code}: ${e.message} (${where})`, !PERMANENT.test(e.code));
        if (/timeout/i.test(e.message))
            throw new _probe_js__WEBPACK_IMPORTED_MODULE_1__/* .ProbeError */ .B2(`no answer within ${timeout} ms (${where})`, true);
        throw (0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .networkError */ .x6)(err, ctx, where);
    }
    finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await client.end().catch(() => undefined);
    }
}
/** host:port of a connection URL, without its credentials. */
function hostOf(url) {
    try {
        const u = new URL(url);
        return `${u.hostname}${u.port ? `:${u.port}` : ''}`;
    }
    catch {
        return 'the server';
    }
}


/***/ })

};
