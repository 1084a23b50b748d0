namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open MathNet.Numerics.LinearAlgebra

/// How the pixels of a decoded video frame become a matrix.
type VideoPixels =
    /// One matrix of height x width luma values in [0, 255] (ffmpeg's "gray" pixel format, BT.601 weights).
    | Gray = 0
    /// One matrix of height x (3 width): row i holds R, G, B of pixel (i, 0), then of (i, 1), and so on, each in
    /// [0, 255] (ffmpeg's "rgb24" layout, so column 3 j + c is channel c of pixel column j).
    | Rgb = 1

/// Video frames decoded by the ffmpeg program (it is not linked: LowRank runs it and reads raw frames from its standard
/// output), so any container and codec that ffmpeg reads can be used: .avi, .mp4, .mkv, .webm, ...
[<RequireQualifiedAccess>]
module Video =

    /// The ffmpeg program: the LOWRANK_FFMPEG environment variable when it is set, otherwise "ffmpeg" on the PATH.
    let internal locate () : string option =
        match Environment.GetEnvironmentVariable "LOWRANK_FFMPEG" with
        | null
        | "" ->
            (Environment.GetEnvironmentVariable "PATH"
             |> Option.ofObj
             |> Option.defaultValue "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            |> Array.map (fun directory -> Path.Combine(directory, "ffmpeg"))
            |> Array.tryFind File.Exists
        | path -> if File.Exists path then Some path else None

    let private missing () =
        InvalidOperationException(
            "Reading video needs the ffmpeg program, which was not found on the PATH (nor at LOWRANK_FFMPEG). "
            + "Install it (on Debian: sudo apt-get install ffmpeg) or set LOWRANK_FFMPEG to its path."
        )

    /// <summary>Whether the ffmpeg program that <c>read</c> needs can be found.</summary>
    /// <returns>true when LOWRANK_FFMPEG names an existing file or an "ffmpeg" file is on the PATH.</returns>
    [<CompiledName("IsAvailable")>]
    let isAvailable () = (locate ()).IsSome

    /// Runs a program to the end, collecting standard output as bytes through `consume`, and standard error as text
    /// (read concurrently so that neither pipe can fill and block the other).
    let private run (program: string) (arguments: string list) (consume: Stream -> 'T) : 'T * int * string =
        let start =
            ProcessStartInfo(
                program,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false
            )

        arguments |> List.iter start.ArgumentList.Add
        // Process.Start returns null only when it reuses a running process, which it never does without a shell.
        use proc = nonNull (Process.Start start)
        let error = proc.StandardError.ReadToEndAsync()
        let result = consume proc.StandardOutput.BaseStream
        proc.WaitForExit()
        result, proc.ExitCode, error.Result.Trim()

    let private lastLine (text: string) =
        match text.Split('\n', StringSplitOptions.RemoveEmptyEntries) with
        | [||] -> "no message"
        | lines -> lines[lines.Length - 1].Trim()

    /// The width and height of the first video stream, as ffmpeg decodes it (one frame is decoded into a tiny header
    /// so that no ffprobe is needed).
    let private frameSize (ffmpeg: string) (path: string) =
        let size = [
            "-v"
            "error"
            "-i"
            path
            "-map"
            "0:v:0"
            "-frames:v"
            "1"
            "-f"
            "image2pipe"
            "-c:v"
            "pgm"
            "-"
        ]

        let header, exitCode, error =
            run ffmpeg size (fun stream ->
                use reader = new StreamReader(stream)
                reader.ReadToEnd())

        // A binary PGM starts "P5\n<width> <height>\n<maxval>\n".
        let fields =
            header.Split([| ' '; '\n'; '\r'; '\t' |], 4, StringSplitOptions.RemoveEmptyEntries)

        if exitCode <> 0 || fields.Length < 3 || fields[0] <> "P5" then
            raise (InvalidDataException($"{path}: ffmpeg could not decode a video frame from it ({lastLine error})."))

        int fields[1], int fields[2]

    /// <summary>Reads the frames of a video as matrices, decoding with the ffmpeg program.</summary>
    /// <remarks>Frames stream one at a time from ffmpeg's standard output, so memory holds the matrices only: 8 bytes
    /// a value, a 768 x 576 grayscale frame is 3.5 MB. Cost: the decode, plus O(height width) a frame. ffmpeg's own
    /// scaler (bicubic) resizes when <c>width</c> is given; the height follows the aspect ratio, rounded, at least 1.
    /// </remarks>
    /// <param name="pixels">Gray (height x width) or Rgb (height x 3 width, interleaved).</param>
    /// <param name="maxFrames">Read at most this many frames from the start; 0 reads all.</param>
    /// <param name="width">Resize each frame to this width (the height keeps the aspect ratio); 0 keeps the size.</param>
    /// <param name="path">The video file.</param>
    /// <returns>The frames, in order, as double-precision matrices with values in [0, 255].</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">maxFrames or width is negative, or pixels is not a defined
    /// value.</exception>
    /// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="System.InvalidOperationException">ffmpeg is not installed; the message says how to install it.
    /// </exception>
    /// <exception cref="System.IO.InvalidDataException">ffmpeg cannot decode the file, or it yields no frame; the message
    /// names the file and gives ffmpeg's own last line.</exception>
    [<CompiledName("Read")>]
    let read (pixels: VideoPixels) (maxFrames: int) (width: int) (path: string) : Matrix<float>[] =
        Guard.notNull (nameof path) path

        if maxFrames < 0 then
            raise (ArgumentOutOfRangeException(nameof maxFrames, maxFrames, "maxFrames must be >= 0 (0 reads all)."))

        if width < 0 then
            raise (ArgumentOutOfRangeException(nameof width, width, "width must be >= 0 (0 keeps the size)."))

        let channels, format =
            match pixels with
            | VideoPixels.Gray -> 1, "gray"
            | VideoPixels.Rgb -> 3, "rgb24"
            | other ->
                raise (ArgumentOutOfRangeException(nameof pixels, other, "pixels must be VideoPixels.Gray or .Rgb."))

        if not (File.Exists path) then
            raise (FileNotFoundException($"{path}: no such video file.", path))

        let ffmpeg = locate () |> Option.defaultWith (fun () -> raise (missing ()))
        let sourceWidth, sourceHeight = frameSize ffmpeg path

        let columns, rows =
            if width = 0 || width = sourceWidth then
                sourceWidth, sourceHeight
            else
                width, max 1 (int (Math.Round(float sourceHeight * float width / float sourceWidth)))

        let arguments =
            [ "-v"; "error"; "-i"; path; "-map"; "0:v:0" ]
            @ (if maxFrames > 0 then
                   [ "-frames:v"; string maxFrames ]
               else
                   [])
            @ (if (columns, rows) <> (sourceWidth, sourceHeight) then
                   [ "-vf"; $"scale={columns}:{rows}:flags=bicubic" ]
               else
                   [])
            @ [ "-f"; "rawvideo"; "-pix_fmt"; format; "-" ]

        let frameBytes = rows * columns * channels

        let frames, exitCode, error =
            run ffmpeg arguments (fun stream ->
                let frames = ResizeArray<Matrix<float>>()
                let buffer = Array.zeroCreate<byte> frameBytes
                let mutable finished = false

                while not finished do
                    let read =
                        stream.ReadAtLeast(buffer.AsSpan(), frameBytes, throwOnEndOfStream = false)

                    if read = frameBytes then
                        let stride = columns * channels
                        frames.Add(Matrix<float>.Build.Dense(rows, stride, fun i j -> float buffer[i * stride + j]))
                    elif read = 0 then
                        finished <- true
                    else
                        raise (
                            InvalidDataException(
                                $"{path}: ffmpeg's output ended inside frame {frames.Count + 1} ({read} of {frameBytes} bytes)."
                            )
                        )

                frames.ToArray())

        if exitCode <> 0 then
            raise (InvalidDataException($"{path}: ffmpeg stopped with exit code {exitCode} ({lastLine error})."))

        if frames.Length = 0 then
            raise (InvalidDataException($"{path}: ffmpeg decoded no video frame from it."))

        frames

    /// <summary>Weights that count moving pixels more: W = 1 + s / mean(s), with s_ij the standard deviation of pixel
    /// (i, j) over the frames (population, about their mean) and mean(s) its average over the pixels; all ones when no
    /// pixel moves (mean(s) at most 64 ulps of the largest |value|: rounding, not motion). mean(W) = 2 whenever one does, so the weighted Frobenius norm ||W o R||_F of a residual R puts half
    /// its weight on where the scene changes, whatever the video's contrast: W is unchanged by adding a constant to
    /// every frame or by scaling them all by c &gt; 0. The weights of the training-choices experiment's weighted loss.
    /// </summary>
    /// <param name="frames">At least one frame, all of one shape, finite.</param>
    /// <returns>W, of the frames' shape, every entry &gt;= 1. O(frames height width), two passes.</returns>
    /// <exception cref="System.ArgumentNullException">frames or one of them is null.</exception>
    /// <exception cref="System.ArgumentException">there is no frame, the shapes differ, or a value is not finite.
    /// </exception>
    [<CompiledName("MotionWeights")>]
    let motionWeights (frames: seq<Matrix<float>>) : Matrix<float> =
        Guard.notNull (nameof frames) frames
        let frames = Seq.toArray frames

        if frames.Length = 0 then
            raise (ArgumentException("Expected at least one frame, but there is none.", nameof frames))

        Guard.noNullElement (nameof frames) "a frame" frames

        frames
        |> Array.iteri (fun i frame ->
            try
                Guard.finiteMatrix $"frames[{i}]" frame
                Guard.sameShape $"frames[{i}]" frame "frames[0]" frames[0] (nameof frames)
            with :? ArgumentException as e when e.ParamName <> nameof frames ->
                raise (ArgumentException($"frames[{i}]: {e.Message}", nameof frames, e)))

        let count = float frames.Length
        let mean = frames |> Array.reduce (+) |> fun sum -> sum / count

        let deviation =
            (frames
             |> Array.map (fun f -> (f - mean).PointwisePower 2.0)
             |> Array.reduce (+)
             |> fun sum -> sum / count)
                .PointwiseSqrt()

        let average = deviation.Enumerate() |> Seq.average
        // Identical frames leave deviations of rounding size (the mean of copies of x need not be x): below 64 ulps of
        // the largest value nothing moves, rather than rounding noise being blown up to weights of order 1.
        let largest =
            frames
            |> Array.map (fun f -> f.Enumerate() |> Seq.map abs |> Seq.max)
            |> Array.max

        if average > 64.0 * Math.Pow(2.0, -52.0) * largest then
            deviation.Map(fun s -> 1.0 + s / average)
        else
            deviation.Map(fun _ -> 1.0)
