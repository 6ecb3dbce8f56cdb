; Declarations that may become entities, at module and namespace level (class and interface
; members are in members.scm). Each pattern names the syntactic position where a declaration can
; be an entity; whether it is kept also depends on nesting (a function inside a function body is
; local), decided in assemble.ts; see SCHEMA.md. This query runs only a few levels below a
; module or namespace (extract.ts), so patterns here must start near the top of a statement.
; Capture names: a match's main capture has a dot (@definition.<kind>: the declaration node);
; its parts have none (@name, @params, @body: the part left out of the signature, @type /
; @return: a declared type, @value: an initializer).
; Child patterns match in sibling order: `return_type:` comes before `body:` in the tree, so it
; must come before it here too, or `@return` never captures a function that has a body.

(class_declaration name: (_) @name body: (_) @body) @definition.class
(abstract_class_declaration name: (_) @name body: (_) @body) @definition.class
(export_statement value: (class body: (_) @body) @definition.class)
(interface_declaration name: (_) @name body: (_) @body) @definition.interface
(type_alias_declaration name: (_) @name value: (_) @value) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name body: (_) @body) @definition.namespace
(module name: (identifier) @name body: (_) @body) @definition.namespace

(function_declaration name: (_) @name parameters: (_) @params return_type: (_)? @return body: (_) @body) @definition.function
(generator_function_declaration name: (_) @name parameters: (_) @params return_type: (_)? @return body: (_) @body) @definition.function
(function_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.function
(export_statement value: (function_expression parameters: (_) @params return_type: (_)? @return body: (_) @body) @definition.function)

; `const x = ...` at module or namespace level, exported or declared; extract.ts tells a
; function (`= () => {}`, `= function () {}`) from a variable. Locals are never entities. (Those
; directly in the module: top-level.scm.)
(export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable))
(export_statement declaration: (variable_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable))
(ambient_declaration (lexical_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable))
(ambient_declaration (variable_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable))
(internal_module body: (statement_block (lexical_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)))
; `var` too, and the same in `module M {}` (the old spelling of `namespace M {}`).
(internal_module body: (statement_block (variable_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)))
(module body: (statement_block (lexical_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)))
(module body: (statement_block (variable_declaration (variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable)))

; Regions whose declarations are never entities.
(ambient_declaration (module name: (string)) @scope.opaque)
(ambient_declaration (statement_block) @scope.opaque)
(class body: (_)) @scope.opaque
; Statements at module or namespace level whose nested declarations are local (inside a block,
; a callback, an IIFE): only direct children of the module or a namespace body are entities. (At
; module level: top-level.scm.)
(internal_module body: (statement_block [(if_statement) (for_statement) (for_in_statement)
          (while_statement) (do_statement) (try_statement) (switch_statement)
          (labeled_statement) (expression_statement) (statement_block)] @scope.opaque))
(module body: (statement_block [(if_statement) (for_statement) (for_in_statement)
          (while_statement) (do_statement) (try_statement) (switch_statement)
          (labeled_statement) (expression_statement) (statement_block)] @scope.opaque))
(export_statement value: [(arrow_function) (call_expression) (object) (parenthesized_expression)] @scope.opaque)
