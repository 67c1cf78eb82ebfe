{{/* Name and labels, following the upstream chart's naming (nameOverride "argocd"). */}}
{{- define "argo-cd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "argo-cd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "argo-cd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .context.Chart.Name .context.Chart.Version }}
app.kubernetes.io/name: {{ include "argo-cd.name" .context }}-{{ .component }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: argocd
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
{{- end -}}

{{- define "argo-cd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "argo-cd.name" .context }}-{{ .component }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
{{- end -}}

{{- define "argo-cd.image" -}}
{{- printf "%s:%s" .Values.global.image.repository (default .Chart.AppVersion .Values.global.image.tag) -}}
{{- end -}}

{{/* A Deployment whose pods kwok makes Ready: .component, .replicas, .image, .kind (Deployment|StatefulSet). */}}
{{- define "argo-cd.workload" -}}
{{- $ctx := .context -}}
apiVersion: apps/v1
kind: {{ default "Deployment" .kind }}
metadata:
  name: {{ include "argo-cd.fullname" $ctx }}-{{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "argo-cd.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  {{- if eq (default "Deployment" .kind) "StatefulSet" }}
  serviceName: {{ include "argo-cd.fullname" $ctx }}-{{ .component }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "argo-cd.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "argo-cd.labels" . | nindent 8 }}
        {{- with $ctx.Values.global.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $ctx.Values.global.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with $ctx.Values.global.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $ctx.Values.global.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ .image }}
          imagePullPolicy: {{ $ctx.Values.global.image.imagePullPolicy }}
          ports:
            - name: {{ .portName | default "http" }}
              containerPort: {{ .port | default 8080 }}
{{- end -}}
