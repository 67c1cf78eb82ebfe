{{- define "linkerd-crds.labelSelector" -}}
type: object
properties:
  matchLabels:
    type: object
    additionalProperties: {type: string}
  matchExpressions:
    type: array
    items:
      type: object
      required: [key, operator]
      properties:
        key: {type: string}
        operator:
          type: string
          enum: [In, NotIn, Exists, DoesNotExist]
        values:
          type: array
          items: {type: string}
{{- end -}}
