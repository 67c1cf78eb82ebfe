{{- define "viz.workload" -}}
{{- $ctx := .context -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    linkerd.io/extension: viz
    component: {{ .component }}
    app.kubernetes.io/name: {{ .component }}
    app.kubernetes.io/part-of: Linkerd
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      linkerd.io/extension: viz
      component: {{ .component }}
  template:
    metadata:
      labels:
        linkerd.io/extension: viz
        component: {{ .component }}
        {{- with $ctx.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        linkerd.io/inject: enabled
        {{- with $ctx.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .component }}
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
          image: {{ printf "%s/%s:%s" $ctx.Values.defaultRegistry .image (default $ctx.Chart.AppVersion $ctx.Values.linkerdVersion) }}
          imagePullPolicy: {{ $ctx.Values.defaultImagePullPolicy }}
          ports:
            - name: http
              containerPort: {{ .port }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    linkerd.io/extension: viz
    component: {{ .component }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    linkerd.io/extension: viz
    component: {{ .component }}
spec:
  type: ClusterIP
  selector:
    linkerd.io/extension: viz
    component: {{ .component }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: {{ .port }}
{{- end -}}
