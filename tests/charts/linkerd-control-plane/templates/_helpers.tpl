{{- define "linkerd.labels" -}}
linkerd.io/control-plane-component: {{ .component }}
linkerd.io/control-plane-ns: {{ .context.Release.Namespace }}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/part-of: Linkerd
app.kubernetes.io/version: {{ default .context.Chart.AppVersion .context.Values.linkerdVersion }}
{{- end -}}

{{- define "linkerd.workload" -}}
{{- $ctx := .context -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: linkerd-{{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "linkerd.labels" . | nindent 4 }}
spec:
  replicas: {{ $ctx.Values.controllerReplicas }}
  selector:
    matchLabels:
      linkerd.io/control-plane-component: {{ .component }}
      linkerd.io/control-plane-ns: {{ $ctx.Release.Namespace }}
  template:
    metadata:
      labels:
        {{- include "linkerd.labels" . | nindent 8 }}
        {{- with $ctx.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        linkerd.io/created-by: {{ printf "linkerd/helm %s" $ctx.Chart.AppVersion | quote }}
        {{- with $ctx.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: linkerd-{{ .component }}
      {{- with $ctx.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $ctx.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ printf "%s:%s" .image (default $ctx.Chart.AppVersion $ctx.Values.linkerdVersion) }}
          ports:
            - name: {{ .portName }}
              containerPort: {{ .port }}
        - name: linkerd-proxy
          image: {{ printf "%s:%s" $ctx.Values.proxy.image.name (default $ctx.Chart.AppVersion $ctx.Values.linkerdVersion) }}
          ports:
            - name: linkerd-admin
              containerPort: 4191
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: linkerd-{{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "linkerd.labels" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: linkerd-{{ .service }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "linkerd.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    linkerd.io/control-plane-component: {{ .component }}
    linkerd.io/control-plane-ns: {{ $ctx.Release.Namespace }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .port }}
{{- end -}}
