"""Static files: whitenoise's compressed, hashed storage, also rewriting the ES module imports in our
scripts (`import { Backoff } from "./reconnect.js"` becomes the hashed name), so a page never mixes a
new call.js with an old cached module. No bundler: the browser loads the modules as they are."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
