# Gatehouse: a static binary (pure-Go SQLite, no cgo) on a distroless base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
# /data holds the default SQLite database and the dev-mode secret; with
# PostgreSQL (GATEHOUSE_DSN) it stays empty.
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV GATEHOUSE_DATA_DIR=/data \
    GATEHOUSE_ADDR=:8080
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve"]
