export const id = 590;
export const ids = [590];
export const modules = {

/***/ 4590:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   probeWebSocket: () => (/* binding */ probeWebSocket)
/* harmony export */ });
/* harmony import */ var ws__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2977);
/* harmony import */ var _probe_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8253);
/** WebSocket checks: the handshake, then optionally a message sent and the first answer read. */


/** Open a WebSocket; when the check sends or expects a message, wait for the first one. */
function probeWebSocket(check, ctx) {
    const waitForMessage = check.send !== undefined || check.expect.body !== undefined || check.expect.json !== undefined;
    return new Promise((resolve, reject) => {
        const start = performance.now();
        const ws = new ws__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .Ay(check.url, {
            headers: check.headers,
            handshakeTimeout: Math.max(1, Math.round(ctx.timeoutMs)),
        });
        let settled = false;
        const done = (err, obs) => {
            if (settled)
                return;
            settled = true;
            ctx.signal.removeEventListener('abort', onAbort);
            ws.removeAllListeners('message');
            ws.on('error', () => undefined);
            if (ws.readyState === ws__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .Ay.OPEN)
                ws.close(1000);
            else
                ws.terminate();
            if (err)
                reject(err);
            else
                resolve(obs);
        };
        const onAbort = () => done((0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .networkError */ .x6)(new Error('aborted'), ctx, check.target));
        if (ctx.signal.aborted)
            return onAbort();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        ws.on('unexpected-response', (_req, res) => {
            const status = res.statusCode ?? 0;
            res.resume();
            done(new _probe_js__WEBPACK_IMPORTED_MODULE_1__/* .ProbeError */ .B2(`expected a WebSocket upgrade, got HTTP ${status}`, status >= 500 || [408, 425, 429].includes(status)));
        });
        ws.on('open', () => {
            if (!waitForMessage)
                return done(null, { latencyMs: (0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .msSince */ .XR)(start) });
            if (check.send !== undefined)
                ws.send(check.send);
        });
        ws.on('message', (data) => {
            const body = Array.isArray(data)
                ? Buffer.concat(data).toString('utf8')
                : Buffer.from(data).toString('utf8');
            done(null, { latencyMs: (0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .msSince */ .XR)(start), body });
        });
        ws.on('close', (code) => done(new _probe_js__WEBPACK_IMPORTED_MODULE_1__/* .ProbeError */ .B2(`the server closed the connection (code ${code}) before a message arrived`, true)));
        ws.on('error', (err) => {
            if (/handshake timed out/i.test(err.message))
                return done(new _probe_js__WEBPACK_IMPORTED_MODULE_1__/* .ProbeError */ .B2(`no answer within ${Math.round(ctx.timeoutMs)} ms`, true));
            done((0,_probe_js__WEBPACK_IMPORTED_MODULE_1__/* .networkError */ .x6)(err, ctx, check.target));
        });
    });
}


/***/ })

};
