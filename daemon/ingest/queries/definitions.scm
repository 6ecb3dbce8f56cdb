; Declarations that may become entities. Which of them are kept (module level, namespace
; body, class/interface members) is decided by nesting, in extract.ts; see SCHEMA.md.
; Capture names: a match's main capture has a dot (@definition.<kind>: the declaration node);
; its parts have none (@name, @body: the part left out of the signature, @type / @return: a
; declared type, @value: an initializer).

(class_declaration name: (_) @name body: (_) @body) @definition.class
(abstract_class_declaration name: (_) @name body: (_) @body) @definition.class
(export_statement value: (class body: (_) @body) @definition.class)
(interface_declaration name: (_) @name body: (_) @body) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum

(function_declaration name: (_) @name parameters: (_) @params body: (_) @body return_type: (_)? @return) @definition.function
(generator_function_declaration name: (_) @name parameters: (_) @params body: (_) @body return_type: (_)? @return) @definition.function
(function_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.function
(export_statement value: (function_expression parameters: (_) @params body: (_) @body return_type: (_)? @return) @definition.function)
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function parameters: (_)? @params body: (_) @body return_type: (_)? @return)
          (function_expression parameters: (_) @params body: (_) @body return_type: (_)? @return)]) @definition.function
(variable_declarator name: (identifier) @name type: (_)? @type value: (_)? @value) @definition.variable

(internal_module name: (_) @name body: (_) @body) @definition.namespace
(module name: (identifier) @name body: (_) @body) @definition.namespace

(method_definition name: (_) @name parameters: (_) @params body: (_) @body return_type: (_)? @return) @definition.method
(method_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.method
(abstract_method_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.method
(public_field_definition name: (_) @name type: (_)? @type value: (_)? @value) @definition.property
(property_signature name: (_) @name type: (_)? @type) @definition.property
(required_parameter (accessibility_modifier) pattern: (identifier) @name type: (_)? @type) @definition.parameter-property
(required_parameter "readonly" pattern: (identifier) @name type: (_)? @type) @definition.parameter-property
(optional_parameter (accessibility_modifier) pattern: (identifier) @name type: (_)? @type) @definition.parameter-property

; Regions whose declarations are never entities.
(ambient_declaration (module name: (string)) @scope.opaque)
(ambient_declaration (statement_block) @scope.opaque)
(class body: (_)) @scope.opaque
; Statements at module or namespace level whose nested declarations are local (inside a block,
; a callback, an IIFE): only direct children of the module or a namespace body are entities.
(program [(if_statement) (for_statement) (for_in_statement) (while_statement) (do_statement)
          (try_statement) (switch_statement) (labeled_statement) (expression_statement)
          (statement_block)] @scope.opaque)
(internal_module body: (statement_block [(if_statement) (for_statement) (for_in_statement)
          (while_statement) (do_statement) (try_statement) (switch_statement)
          (labeled_statement) (expression_statement) (statement_block)] @scope.opaque))
(export_statement value: [(arrow_function) (call_expression) (object) (parenthesized_expression)] @scope.opaque)
