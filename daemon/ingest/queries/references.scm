; References from code to declarations, resolved in daemon/resolve/.
; @reference.<kind> is the whole reference, @target the name or expression it points at.
; As everywhere, main captures have a dot and their parts do not. A call starts where its callee
; does, so the callee alone is captured, as the reference (one capture less per call: a query
; costs per capture).

(call_expression function: [(identifier) (member_expression) (non_null_expression)] @reference.call)
(new_expression constructor: [(identifier) (member_expression)] @target) @reference.new

(extends_clause value: [(identifier) (member_expression)] @target) @reference.extends
(implements_clause [(type_identifier) (nested_type_identifier)] @target) @reference.implements
(implements_clause (generic_type name: (_) @target)) @reference.implements
(extends_type_clause type: [(type_identifier) (nested_type_identifier)] @target) @reference.extends
(extends_type_clause type: (generic_type name: (_) @target)) @reference.extends

; A function passed as an argument: its untyped parameters take their types from the callee's
; declared parameter type (contextual typing), resolved in daemon/resolve/.
(call_expression function: [(identifier) (member_expression)] @callee arguments: (arguments [(arrow_function) (function_expression)] @callback)) @reference.callback
(new_expression constructor: [(identifier) (member_expression)] @callee arguments: (arguments [(arrow_function) (function_expression)] @callback)) @reference.callback

; Types: one match per annotation, its names read by type-refs.ts (far cheaper than a match
; per type identifier). Annotations nested in another are read once, with the outer one.
(type_annotation) @reference.types
(type_alias_declaration value: (_) @reference.types)
(type_arguments) @reference.types
; `value is T`, `asserts value is T` (a return type, not a type_annotation): the type alone.
(type_predicate type: (_) @reference.types)
; `x as T`, `x satisfies T`: the type is the last of two named children (`as const` has one).
(as_expression (_) (_) @reference.types .)
(satisfies_expression (_) (_) @reference.types .)
; `<A, B extends C = D>`: declares A and B (not references), and refers to C and D.
(type_parameters) @reference.type-parameters

(ERROR) @error.syntax

; Local names with what is known of their type: they shadow imports, and give `x.m()` a receiver type.
(required_parameter pattern: (identifier) @binding-name type: (_)? @binding-type) @binding.local
(optional_parameter pattern: (identifier) @binding-name type: (_)? @binding-type) @binding.local
; `function (this: SchedulerAction<T>) { this.schedule() }`: what `this` is where no class says.
(required_parameter pattern: (this) @binding-name type: (_) @binding-type) @binding.local
; A declarator starts with its name: the name alone is captured, as the binding.
(variable_declarator name: (identifier) @binding.local type: (_)? @binding-type value: (_)? @binding-value)
; `for (const x of xs)`: x holds an element of xs, typed by xs's declared element type.
(for_in_statement left: (identifier) @binding.element operator: "of" right: (_) @binding-value)
; `const { a, b: c } = x`: each name holds a member of x (collect.ts reads the pattern).
(variable_declarator name: (object_pattern) @binding.destructured value: (_) @binding-value)

; `import('x')` anywhere in code (the static forms are in modules.scm).
(call_expression function: (import) arguments: (arguments . (string (string_fragment) @source))) @import.dynamic
