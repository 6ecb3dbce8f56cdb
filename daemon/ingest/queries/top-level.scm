; Patterns about the module's own statements, run from the module node no deeper than its
; children (extract.ts: maxStartDepth 1), which is what `(program (...))` around each of them
; said. Written that way, they cost an edit's query a walk over every top-level statement of the
; file, range or not: tree-sitter matched each one against the pattern begun at `program`
; (0.7 ms of an edit of zod's v4/core/schemas.ts, 924 statements); without it, nothing outside
; the edited statements is looked at.

; `const x = ...` directly in the module (definitions.scm has the other places).
(lexical_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)
(variable_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)

; Statements directly in the module whose nested declarations are local (inside a block, a
; callback, an IIFE).
[(if_statement) (for_statement) (for_in_statement) (while_statement) (do_statement)
 (try_statement) (switch_statement) (labeled_statement) (expression_statement)
 (statement_block)] @scope.opaque
