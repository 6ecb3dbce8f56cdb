; Imports and exports: how names cross module boundaries.

(import_statement (import_clause (identifier) @default) source: (string (string_fragment) @source)) @import.bound
(import_statement (import_clause (namespace_import (identifier) @namespace)) source: (string (string_fragment) @source)) @import.bound
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @imported alias: (_)? @alias) @specifier))
  source: (string (string_fragment) @source)) @import.bound
; `import fs = require('fs')` (TypeScript's CommonJS import): binds the whole module, like `* as fs`.
(import_statement (import_require_clause (identifier) @namespace source: (string (string_fragment) @source))) @import.bound
(import_statement source: (string (string_fragment) @source)) @import.module

(export_statement
  (export_clause (export_specifier name: (_) @name alias: (_)? @alias))
  source: (string (string_fragment) @source)?) @export.clause
(export_statement (namespace_export (_) @alias) source: (string (string_fragment) @source)) @export.namespace
(export_statement "*" source: (string (string_fragment) @source)) @export.star
(export_statement value: (identifier) @name) @export.default
