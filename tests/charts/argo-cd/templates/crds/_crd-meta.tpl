{{/* Metadata shared by the CRDs: keep policy and extra labels/annotations like the upstream chart. */}}
{{- define "argo-cd.crdMeta" -}}
labels:
  app.kubernetes.io/name: {{ .name }}
  app.kubernetes.io/part-of: argocd
  {{- with .context.Values.crds.additionalLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or .context.Values.crds.keep .context.Values.crds.annotations }}
annotations:
  {{- if .context.Values.crds.keep }}
  helm.sh/resource-policy: keep
  {{- end }}
  {{- with .context.Values.crds.annotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}
