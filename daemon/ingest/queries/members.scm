; Members of a class or interface body: this query runs on each body (extract.ts), a few
; levels deep. Capture names as in definitions.scm.

(class_body (method_definition name: (_) @name parameters: (_) @params return_type: (_)? @return body: (_) @body) @definition.method)
(class_body (method_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.method)
(class_body (abstract_method_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.method)
(class_body (public_field_definition name: (_) @name type: (_)? @type value: (_)? @value) @definition.property)
(interface_body (method_signature name: (_) @name parameters: (_) @params return_type: (_)? @return) @definition.method)
(interface_body (property_signature name: (_) @name type: (_)? @type) @definition.property)
(required_parameter (accessibility_modifier) pattern: (identifier) @name type: (_)? @type) @definition.parameter-property
(required_parameter "readonly" pattern: (identifier) @name type: (_)? @type) @definition.parameter-property
(optional_parameter (accessibility_modifier) pattern: (identifier) @name type: (_)? @type) @definition.parameter-property
