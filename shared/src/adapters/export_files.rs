//! Where export parts go: a directory on this machine (the local stack, the admin CLI), or an
//! S3 bucket in AWS, fetched through presigned links.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use crate::model::AppId;
use crate::ports::export::{ExportFiles, ExportFilesError};

/// Parts as files under `<dir>/<app>/<export id>/`, readable by their owner alone (they hold
/// every user's email and metadata), linked as `file://` URLs.
#[derive(Debug, Clone)]
pub struct DirectoryFiles {
    dir: PathBuf,
}

impl DirectoryFiles {
    /// Parts under `dir`, made absolute so that links name them from anywhere.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, ExportFilesError> {
        let dir = std::path::absolute(dir.into()).map_err(io_error)?;
        Ok(Self { dir })
    }

    /// The file of part `name` of export `id`.
    pub fn path(&self, app: &AppId, id: &str, name: &str) -> PathBuf {
        self.dir.join(app.as_str()).join(id).join(name)
    }
}

fn io_error(error: std::io::Error) -> ExportFilesError {
    ExportFilesError(error.to_string())
}

impl ExportFiles for DirectoryFiles {
    async fn write_part(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ExportFilesError> {
        let path = self.path(app, id, name);
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let parent = path
                .parent()
                .ok_or_else(|| std::io::Error::other("no parent"))?;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
            // Written beside its name and renamed whole: a reader never sees half a part.
            let partial = path.with_extension("partial");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        })
        .await
        .map_err(|e| ExportFilesError(e.to_string()))?
        .map_err(io_error)
    }

    async fn remove_part(&self, app: &AppId, id: &str, name: &str) -> Result<(), ExportFilesError> {
        match tokio::fs::remove_file(self.path(app, id, name)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(io_error(error)),
            _ => Ok(()),
        }
    }

    async fn link(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
    ) -> Result<(String, Option<String>), ExportFilesError> {
        let path = self.path(app, id, name);
        Ok((format!("file://{}", path.display()), None))
    }
}

/// The variable naming the exports bucket in AWS.
pub const EXPORT_BUCKET_VAR: &str = "EXPORT_BUCKET";

/// How long a presigned link to a part works: long enough to fetch a large part, short enough
/// that a leaked link is soon useless.
pub const LINK_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Parts as objects `exports/<app>/<export id>/<name>` in a private bucket (encrypted at rest,
/// expired by the bucket's lifecycle rule), linked by presigned GETs.
#[derive(Debug, Clone)]
pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket named by `EXPORT_BUCKET`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, ExportFilesError> {
        let bucket = std::env::var(EXPORT_BUCKET_VAR)
            .map_err(|_| ExportFilesError(format!("{EXPORT_BUCKET_VAR} is not set")))?;
        // A part is megabytes, not a DynamoDB item: the shared configuration's 2 s attempt
        // and 5 s call timeouts are for the store.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(120))
            .operation_timeout(Duration::from_secs(300))
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .timeout_config(timeouts)
            .build();
        Ok(Self::new(aws_sdk_s3::Client::from_conf(s3), bucket))
    }

    fn key(app: &AppId, id: &str, name: &str) -> String {
        format!("exports/{app}/{id}/{name}")
    }
}

fn s3_error<E: std::error::Error + 'static>(error: E) -> ExportFilesError {
    ExportFilesError(aws_sdk_s3::error::DisplayErrorContext(&error).to_string())
}

impl ExportFiles for S3Files {
    async fn write_part(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ExportFilesError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::key(app, id, name))
            .content_type("application/x-ndjson")
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(s3_error)
    }

    async fn remove_part(&self, app: &AppId, id: &str, name: &str) -> Result<(), ExportFilesError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(Self::key(app, id, name))
            .send()
            .await
            .map(|_| ())
            .map_err(s3_error)
    }

    async fn link(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
    ) -> Result<(String, Option<String>), ExportFilesError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(LINK_LIFETIME)
            .map_err(s3_error)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key(app, id, name))
            .presigned(config)
            .await
            .map_err(s3_error)?;
        let expires = crate::clock::format_rfc3339(time::OffsetDateTime::now_utc() + LINK_LIFETIME);
        Ok((request.uri().to_owned(), Some(expires)))
    }
}
