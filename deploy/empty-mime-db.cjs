'use strict';
// An empty mime-db for the function bundles (serverless.yml custom.esbuild.alias): form-data, which
// axios loads under @slack/web-api, reads its 200 KB table only to name an uploaded file's type,
// and the notifier uploads no files. Measured in `npm run bench` (README "Performance").
module.exports = {};
