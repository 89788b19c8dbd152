import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Provider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_UNSPECIFIED: _ClassVar[Provider]
    PROVIDER_GITHUB: _ClassVar[Provider]
    PROVIDER_GITLAB: _ClassVar[Provider]
    PROVIDER_CIRCLECI: _ClassVar[Provider]
    PROVIDER_JENKINS: _ClassVar[Provider]
    PROVIDER_OTEL: _ClassVar[Provider]

class Result(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESULT_UNSPECIFIED: _ClassVar[Result]
    RESULT_SUCCESS: _ClassVar[Result]
    RESULT_FAILURE: _ClassVar[Result]
    RESULT_ERROR: _ClassVar[Result]
    RESULT_TIMEOUT: _ClassVar[Result]
    RESULT_CANCELLATION: _ClassVar[Result]
    RESULT_SKIP: _ClassVar[Result]

class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATE_UNSPECIFIED: _ClassVar[State]
    STATE_PENDING: _ClassVar[State]
    STATE_EXECUTING: _ClassVar[State]
    STATE_FINALIZING: _ClassVar[State]
    STATE_COMPLETED: _ClassVar[State]

class RefType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REF_TYPE_UNSPECIFIED: _ClassVar[RefType]
    REF_TYPE_BRANCH: _ClassVar[RefType]
    REF_TYPE_TAG: _ClassVar[RefType]

class TaskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_TYPE_UNSPECIFIED: _ClassVar[TaskType]
    TASK_TYPE_BUILD: _ClassVar[TaskType]
    TASK_TYPE_TEST: _ClassVar[TaskType]
    TASK_TYPE_DEPLOY: _ClassVar[TaskType]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_JOB: _ClassVar[JobKind]
    JOB_KIND_STAGE: _ClassVar[JobKind]

class TestResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEST_RESULT_UNSPECIFIED: _ClassVar[TestResult]
    TEST_RESULT_PASS: _ClassVar[TestResult]
    TEST_RESULT_FAIL: _ClassVar[TestResult]
    TEST_RESULT_ERROR: _ClassVar[TestResult]
    TEST_RESULT_SKIP: _ClassVar[TestResult]

class DeploymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPLOYMENT_STATUS_UNSPECIFIED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_PENDING: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_IN_PROGRESS: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_SUCCEEDED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_FAILED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_CANCELLED: _ClassVar[DeploymentStatus]
PROVIDER_UNSPECIFIED: Provider
PROVIDER_GITHUB: Provider
PROVIDER_GITLAB: Provider
PROVIDER_CIRCLECI: Provider
PROVIDER_JENKINS: Provider
PROVIDER_OTEL: Provider
RESULT_UNSPECIFIED: Result
RESULT_SUCCESS: Result
RESULT_FAILURE: Result
RESULT_ERROR: Result
RESULT_TIMEOUT: Result
RESULT_CANCELLATION: Result
RESULT_SKIP: Result
STATE_UNSPECIFIED: State
STATE_PENDING: State
STATE_EXECUTING: State
STATE_FINALIZING: State
STATE_COMPLETED: State
REF_TYPE_UNSPECIFIED: RefType
REF_TYPE_BRANCH: RefType
REF_TYPE_TAG: RefType
TASK_TYPE_UNSPECIFIED: TaskType
TASK_TYPE_BUILD: TaskType
TASK_TYPE_TEST: TaskType
TASK_TYPE_DEPLOY: TaskType
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_JOB: JobKind
JOB_KIND_STAGE: JobKind
TEST_RESULT_UNSPECIFIED: TestResult
TEST_RESULT_PASS: TestResult
TEST_RESULT_FAIL: TestResult
TEST_RESULT_ERROR: TestResult
TEST_RESULT_SKIP: TestResult
DEPLOYMENT_STATUS_UNSPECIFIED: DeploymentStatus
DEPLOYMENT_STATUS_PENDING: DeploymentStatus
DEPLOYMENT_STATUS_IN_PROGRESS: DeploymentStatus
DEPLOYMENT_STATUS_SUCCEEDED: DeploymentStatus
DEPLOYMENT_STATUS_FAILED: DeploymentStatus
DEPLOYMENT_STATUS_CANCELLED: DeploymentStatus

class Repository(_message.Message):
    __slots__ = ("url", "name", "owner")
    URL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    url: str
    name: str
    owner: str
    def __init__(self, url: _Optional[str] = ..., name: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class VcsRef(_message.Message):
    __slots__ = ("name", "type", "revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: RefType
    revision: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[RefType, str]] = ..., revision: _Optional[str] = ...) -> None: ...

class Runner(_message.Message):
    __slots__ = ("id", "name", "labels", "group", "url")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    group: str
    url: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., group: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class PipelineRun(_message.Message):
    __slots__ = ("pipeline_name", "run_id", "run_number", "attempt", "state", "result", "result_detail", "queued_time", "started_time", "finished_time", "url", "trigger", "actor", "change_id", "base", "pipeline_id", "trace_id", "span_id", "parent_span_id")
    PIPELINE_NAME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_DETAIL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    pipeline_name: str
    run_id: str
    run_number: int
    attempt: int
    state: State
    result: Result
    result_detail: str
    queued_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    finished_time: _timestamp_pb2.Timestamp
    url: str
    trigger: str
    actor: str
    change_id: str
    base: VcsRef
    pipeline_id: str
    trace_id: str
    span_id: str
    parent_span_id: str
    def __init__(self, pipeline_name: _Optional[str] = ..., run_id: _Optional[str] = ..., run_number: _Optional[int] = ..., attempt: _Optional[int] = ..., state: _Optional[_Union[State, str]] = ..., result: _Optional[_Union[Result, str]] = ..., result_detail: _Optional[str] = ..., queued_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., trigger: _Optional[str] = ..., actor: _Optional[str] = ..., change_id: _Optional[str] = ..., base: _Optional[_Union[VcsRef, _Mapping]] = ..., pipeline_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("run_id", "attempt", "job_id", "parent_job_id", "name", "kind", "stage", "task_type", "state", "result", "result_detail", "queued_time", "started_time", "finished_time", "url", "runner", "trace_id", "span_id", "parent_span_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_DETAIL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    attempt: int
    job_id: str
    parent_job_id: str
    name: str
    kind: JobKind
    stage: str
    task_type: TaskType
    state: State
    result: Result
    result_detail: str
    queued_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    finished_time: _timestamp_pb2.Timestamp
    url: str
    runner: Runner
    trace_id: str
    span_id: str
    parent_span_id: str
    def __init__(self, run_id: _Optional[str] = ..., attempt: _Optional[int] = ..., job_id: _Optional[str] = ..., parent_job_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., stage: _Optional[str] = ..., task_type: _Optional[_Union[TaskType, str]] = ..., state: _Optional[_Union[State, str]] = ..., result: _Optional[_Union[Result, str]] = ..., result_detail: _Optional[str] = ..., queued_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., runner: _Optional[_Union[Runner, _Mapping]] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("run_id", "attempt", "job_id", "step_id", "number", "name", "state", "result", "result_detail", "started_time", "finished_time", "url", "trace_id", "span_id", "parent_span_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_DETAIL_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    attempt: int
    job_id: str
    step_id: str
    number: int
    name: str
    state: State
    result: Result
    result_detail: str
    started_time: _timestamp_pb2.Timestamp
    finished_time: _timestamp_pb2.Timestamp
    url: str
    trace_id: str
    span_id: str
    parent_span_id: str
    def __init__(self, run_id: _Optional[str] = ..., attempt: _Optional[int] = ..., job_id: _Optional[str] = ..., step_id: _Optional[str] = ..., number: _Optional[int] = ..., name: _Optional[str] = ..., state: _Optional[_Union[State, str]] = ..., result: _Optional[_Union[Result, str]] = ..., result_detail: _Optional[str] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ...) -> None: ...

class TestCase(_message.Message):
    __slots__ = ("run_id", "attempt", "job_id", "step_id", "suite", "class_name", "name", "file", "result", "duration", "failure_message", "failure_type", "failure_detail", "started_time", "trace_id", "span_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_TYPE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_DETAIL_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    attempt: int
    job_id: str
    step_id: str
    suite: str
    class_name: str
    name: str
    file: str
    result: TestResult
    duration: _duration_pb2.Duration
    failure_message: str
    failure_type: str
    failure_detail: str
    started_time: _timestamp_pb2.Timestamp
    trace_id: str
    span_id: str
    def __init__(self, run_id: _Optional[str] = ..., attempt: _Optional[int] = ..., job_id: _Optional[str] = ..., step_id: _Optional[str] = ..., suite: _Optional[str] = ..., class_name: _Optional[str] = ..., name: _Optional[str] = ..., file: _Optional[str] = ..., result: _Optional[_Union[TestResult, str]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., failure_message: _Optional[str] = ..., failure_type: _Optional[str] = ..., failure_detail: _Optional[str] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("deployment_id", "name", "service", "environment", "version", "status", "status_detail", "started_time", "finished_time", "url", "run_id", "job_id", "trace_id", "span_id")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_DETAIL_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    name: str
    service: str
    environment: str
    version: str
    status: DeploymentStatus
    status_detail: str
    started_time: _timestamp_pb2.Timestamp
    finished_time: _timestamp_pb2.Timestamp
    url: str
    run_id: str
    job_id: str
    trace_id: str
    span_id: str
    def __init__(self, deployment_id: _Optional[str] = ..., name: _Optional[str] = ..., service: _Optional[str] = ..., environment: _Optional[str] = ..., version: _Optional[str] = ..., status: _Optional[_Union[DeploymentStatus, str]] = ..., status_detail: _Optional[str] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., run_id: _Optional[str] = ..., job_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("author_name", "author_email", "authored_time", "committed_time", "pushed_time", "title", "url", "pusher")
    AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_EMAIL_FIELD_NUMBER: _ClassVar[int]
    AUTHORED_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_TIME_FIELD_NUMBER: _ClassVar[int]
    PUSHED_TIME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    PUSHER_FIELD_NUMBER: _ClassVar[int]
    author_name: str
    author_email: str
    authored_time: _timestamp_pb2.Timestamp
    committed_time: _timestamp_pb2.Timestamp
    pushed_time: _timestamp_pb2.Timestamp
    title: str
    url: str
    pusher: str
    def __init__(self, author_name: _Optional[str] = ..., author_email: _Optional[str] = ..., authored_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., committed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pushed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., title: _Optional[str] = ..., url: _Optional[str] = ..., pusher: _Optional[str] = ...) -> None: ...

class BuildEvent(_message.Message):
    __slots__ = ("event_id", "observed_time", "provider", "provider_name", "repository", "head", "attributes", "pipeline_run", "job", "step", "test_case", "deployment", "change")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUN_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TEST_CASE_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    observed_time: _timestamp_pb2.Timestamp
    provider: Provider
    provider_name: str
    repository: Repository
    head: VcsRef
    attributes: _containers.ScalarMap[str, str]
    pipeline_run: PipelineRun
    job: Job
    step: Step
    test_case: TestCase
    deployment: Deployment
    change: Change
    def __init__(self, event_id: _Optional[str] = ..., observed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provider: _Optional[_Union[Provider, str]] = ..., provider_name: _Optional[str] = ..., repository: _Optional[_Union[Repository, _Mapping]] = ..., head: _Optional[_Union[VcsRef, _Mapping]] = ..., attributes: _Optional[_Mapping[str, str]] = ..., pipeline_run: _Optional[_Union[PipelineRun, _Mapping]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., step: _Optional[_Union[Step, _Mapping]] = ..., test_case: _Optional[_Union[TestCase, _Mapping]] = ..., deployment: _Optional[_Union[Deployment, _Mapping]] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...
