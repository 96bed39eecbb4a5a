export const id = 516;
export const ids = [516];
export const modules = {

/***/ 8516:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   openPGliteFolder: () => (/* binding */ openPGliteFolder)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _electric_sql_pglite__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(7556);
/* harmony import */ var _database_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1472);
/**
 * The embedded default: a PGlite database in a folder, so the CLI and the demo run the whole
 * flow without a server. Only the CLI's path imports this module (dynamically), which keeps
 * PGlite out of the action bundles.
 */




/** Open (creating when needed) the PGlite database stored in `folder`. */
async function openPGliteFolder(folder) {
    await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.mkdir)(folder, { recursive: true });
    const db = await _electric_sql_pglite__WEBPACK_IMPORTED_MODULE_2__.PGlite.create(folder);
    // One process, one session: every "connection" is the same one, and closing it is the database's job.
    const session = {
        exec: async (sql) => {
            await db.exec(sql);
        },
        query: async (sql, params) => (await db.query(sql, params)).rows,
        reset: async () => {
            await db.exec(_database_js__WEBPACK_IMPORTED_MODULE_3__/* .RESET_SESSION_SQL */ ._W);
        },
        close: async () => undefined,
    };
    return {
        where: folder,
        shared: false,
        connect: async () => session,
        async backup(dir, label) {
            const file = node_path__WEBPACK_IMPORTED_MODULE_1___default().join(dir, `${label}.tar.gz`);
            const dump = await db.dumpDataDir('gzip');
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.writeFile)(file, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(file, 0o600);
            return file;
        },
        close: () => db.close(),
    };
}


/***/ })

};
